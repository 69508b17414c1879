//! Control flow: labels that skip code, loops, whether one place reaches another.

use super::ArrayCx;
use crate::analyze::facts::JumpKind;
use crate::analyze::Span;

impl<'a> ArrayCx<'a> {
    /// A label between `after` and `before` through which control can reach
    /// `before` without running `after`: any label, and a `case` of a switch
    /// that starts before `after` (a switch starting later runs it first).
    pub(crate) fn label_skipping(&self, after: Span, before: usize) -> Option<usize> {
        self.f
            .jumps
            .iter()
            .find(|j| {
                let skips = match j.kind {
                    JumpKind::Label => true,
                    JumpKind::Case => j.scope.is_none_or(|sw| sw.start < after.end),
                    _ => false,
                };
                skips && j.span.start >= after.end && j.span.start < before
            })
            .map(|j| j.span.start)
    }

    /// Where the label `label` stands, if the function has it.
    pub(super) fn label_at(&self, label: &Option<String>) -> Option<usize> {
        self.f
            .jumps
            .iter()
            .find(|j| j.kind == JumpKind::Label && &j.label == label)
            .map(|j| j.span.start)
    }

    /// Loops of the function: `for`, `while`, `do`, and backward `goto`s
    /// (from the label to the jump).
    pub(crate) fn loop_spans(&self) -> impl Iterator<Item = Span> + '_ {
        let gotos = self.f.jumps.iter().filter_map(|g| {
            if g.kind != JumpKind::Goto {
                return None;
            }
            let label = self.label_at(&g.label)?;
            (label < g.span.start).then(|| Span::new(label, g.span.end))
        });
        self.f.loops.iter().copied().chain(gotos)
    }

    /// Whether control can flow from `from` to `to`: false when a block
    /// holding `from` (but not `to`) returns or jumps past `to` after it.
    pub(super) fn reaches(&self, from: Span, to: Span) -> bool {
        let returns_at_from = self
            .f
            .jumps
            .iter()
            .any(|j| j.kind == JumpKind::Return && j.span.contains(from));
        if returns_at_from {
            return false;
        }
        !self.f.blocks.iter().any(|b| {
            b.span.contains(from)
                && !b.span.contains(to)
                && b.exits.iter().any(|x| {
                    x.span.start >= from.start
                        && match x.kind {
                            JumpKind::Return => true,
                            JumpKind::Goto => self.label_at(&x.label).is_some_and(|l| l > to.start),
                            _ => false,
                        }
                })
        })
    }
}
