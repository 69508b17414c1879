//! The catalogue of codes: one rule per code, with the page
//! `dims-fix --explain CODE` prints, SARIF's `help`, and the table in docs/output.md.
//! A code is never renumbered or reused; a new kind of reason gets a new
//! code in its family.

use crate::analyze::Class;

/// Every code, one per kind of reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    ChangePersists,
    ReplacesShapePointer,
    AliasMoved,
    TreeMacro,
    ImpureIndex,
    JumpLeavesWindow,
    LabelEntersWindow,
    WindowLayout,
    ChangesAfterRestore,
    RestoreNotOriginal,
    SavedValue,
    ChangedBeforeRestore,
    ChangesInLoop,
    IndexVariable,
    NotOwnVariable,
    ArrayAddressTaken,
    SecondName,
    ArrayStored,
    ShapePointerStored,
    RawField,
    NotPlainVariable,
    ReassignedInWindow,
    ShapeReaderInWindow,
    PassedInWindow,
    EscapesInWindow,
    MetadataInWindow,
    ShapePassedInWindow,
    ShapePointerInWindow,
    ReadAfterRestore,
    OtherAlias,
    OtherArray,
    ChangedBeforeWrite,
    AliasCopy,
    FileMacro,
    HeaderMacro,
    MayWriteUnknownCallee,
    MayWriteFunctionPointer,
    OtherNameInWindow,
    FileFunctionReachesGlobal,
    IncludeInWindow,
    WriteInLambda,
    MayThrowInWindow,
    RestoreInDestructor,
    TemplateToken,
    LineContinuation,
    SavedLeftUnused,
    RestoreSkipped,
    TemporaryMetadata,
    MetadataSetAgain,
    AssignsMetadata,
    FreesShape,
    SetsFlags,
    FreshAllocation,
    FreshFromTreeFunction,
    FreshInCallers,
    TemporaryChange,
    TemporaryWrite,
    RestoresOriginal,
    Unparsed,
    ParseError,
    InComment,
    PerBranch,
    OutsideFunction,
    Unrecognised,
    TooDeep,
    BranchNotRead,
    InMacro,
    KnR,
    LoneCr,
    Graph,
    MacroBrace,
    Unterminated,
}

/// A code's page.
#[derive(Debug)]
pub struct Rule {
    pub code: Code,
    /// `DF101`.
    pub id: &'static str,
    /// `jump-leaves-window`.
    pub slug: &'static str,
    /// The class of the findings and sites that carry it.
    pub class: Class,
    /// One line: what it says.
    pub summary: &'static str,
    /// What it means, why it matters.
    pub meaning: &'static str,
    /// A small C example that gets it.
    pub example: &'static str,
    /// What to do.
    pub fix: &'static str,
}

impl Code {
    pub fn rule(self) -> &'static Rule {
        RULES
            .iter()
            .find(|r| r.code == self)
            .expect("every code has a rule (tested)")
    }

    pub fn id(self) -> &'static str {
        self.rule().id
    }
}

/// The rule with this id (`DF101`) or slug, in any case.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(name) || r.slug.eq_ignore_ascii_case(name))
}

const MANUAL_FIX: &str = "Check by hand whether other threads can see the array here \
(numpy#28197). If so, build the new shape in a local `npy_intp dims[NPY_MAXDIMS]` copy and pass \
the copy, or take a lock; once reviewed, mark the site with a \
`/* dims-fix: allow(manual) why */` comment.";

macro_rules! rules {
    ($($code:ident $id:literal $slug:literal $class:ident $summary:literal;
        $meaning:literal; $example:literal; $fix:expr;)*) => {
        /// Every rule, in code order.
        pub static RULES: &[Rule] = &[$(Rule {
            code: Code::$code,
            id: $id,
            slug: $slug,
            class: Class::$class,
            summary: $summary,
            meaning: $meaning,
            example: $example,
            fix: $fix,
        }),*];
    };
}

rules! {
    ChangePersists "DF101" "change-persists" Manual
    "a write to a possibly shared array's shape is never undone";
    "The shape slot is written and not put back on the way out, or the whole storage is \
     overwritten (memcpy, a callee or macro of the tree), or the last write stores something \
     other than a saved original. The change outlives the function: a bug if unintended, a \
     missing lock if intended.";
    "void f(PyArrayObject *a, npy_intp n)\n{\n    PyArray_DIMS(a)[0] = n;   /* never restored */\n}";
    "If the change is meant to stay, it needs a lock (or a fresh array). If it is meant to be \
     temporary, save the slot first (`npy_intp old = PyArray_DIM(a, 0);`) and restore it, or \
     build the shape in a local copy.";

    ReplacesShapePointer "DF102" "replaces-shape-pointer" Manual
    "the array's shape pointer itself is replaced";
    "`((PyArrayObject_fields *)a)->dimensions = p` swaps the storage every reader follows. \
     Without evidence of an intended in-place change it is reported for review.";
    "((PyArrayObject_fields *)a)->dimensions = dims;";
    MANUAL_FIX;

    AliasMoved "DF103" "alias-moved" Manual
    "a write goes through an alias moved by an amount not tracked";
    "An alias of the shape was moved (`d++`, `d += k`) before the write, so the slot it \
     writes is not known.";
    "npy_intp *d = PyArray_DIMS(a);\nd += k;\nd[0] = n;";
    "Index the alias instead of moving it (`d[k] = n`).";

    TreeMacro "DF104" "tree-macro-writes-shape" Manual
    "a macro of the scanned tree writes the shape at this use";
    "A function-like macro defined in the tree writes through a shape source of its argument \
     (`#define SET_DIM(a, i, v) (PyArray_DIMS(a)[i] = (v))`). Each use is a write; a macro \
     cannot be rewritten automatically.";
    "#define SET_DIM(a, i, v) (PyArray_DIMS(a)[i] = (v))\n...\nSET_DIM(arr, 0, n);";
    "Rewrite the macro (or its uses) to build the shape in a local copy, or take a lock.";

    ImpureIndex "DF105" "impure-index" Manual
    "the written index may change from one evaluation to the next";
    "The index has side effects or reads memory (`i++`, `f(x)`, `p->axis`, `ax[0]`): the \
     restore may not name the slot the write changed.";
    "PyArray_DIMS(a)[self->axis] = n;\n...\nPyArray_DIMS(a)[self->axis] = old;";
    "Read the index into a local integer first and index with it.";

    JumpLeavesWindow "DF110" "jump-leaves-window" Manual
    "a return, goto, break or continue leaves between the write and the restore";
    "Control can leave after the write and before the restore, so the change persists on \
     that path.";
    "PyArray_DIMS(a)[axis] = total;\nif (ret == NULL) {\n    return NULL;   /* skips the restore */\n}\nPyArray_DIMS(a)[axis] = n;";
    "Restore on every path (or better, build the shape in a local copy), then run dims-fix again.";

    LabelEntersWindow "DF111" "label-enters-window" Manual
    "a label lets control enter between the write and the restore";
    "A label (or a case) inside the window can be reached without running the write, so the \
     restore may run alone.";
    "PyArray_DIMS(a)[0] = n;\n  again:\nuse(a);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    WindowLayout "DF112" "window-layout" Manual
    "the write and its restore are not laid out so a copy can replace them";
    "The write and the restore must be whole statements of one `{ }` block (or one `#if` \
     branch of it), the first write on a line of its own and naming its source directly.";
    "if (c) PyArray_DIMS(a)[0] = n;   /* not directly in a block */";
    "Put the write and the restore in one block, each on its own line.";

    ChangesAfterRestore "DF113" "changes-after-restore" Manual
    "the shape changes again after a restore";
    "A new copy would keep the first change after the real shape was put back.";
    "PyArray_DIMS(a)[0] = n;\nPyArray_DIMS(a)[0] = old;\nPyArray_DIMS(a)[0] = m;";
    MANUAL_FIX;

    RestoreNotOriginal "DF120" "restore-not-original" Manual
    "the restore does not store the value read from the same slot before";
    "The value put back must be the one read from the same slot before the write \
     (`n = PyArray_DIM(a, axis)`).";
    "npy_intp n = PyArray_DIM(a, 1);\nPyArray_DIMS(a)[0] = k;\nPyArray_DIMS(a)[0] = n;";
    "Save the slot that is written, and restore that.";

    SavedValue "DF121" "saved-value-unproven" Manual
    "the saved value may not be the slot's original on every path";
    "The saved value must be a plain local `npy_intp`-wide variable, assigned once, by a \
     statement that runs before the window whenever the window runs.";
    "int n = PyArray_DIM(a, 0);   /* too narrow */\nPyArray_DIMS(a)[0] = k;\nPyArray_DIMS(a)[0] = n;";
    "Save into a local `npy_intp` assigned once, in a statement before the write.";

    ChangedBeforeRestore "DF122" "changed-before-restore" Manual
    "the saved value, the index or the array changes before the restore";
    "Between the read and the restore, a variable the restore depends on is assigned again.";
    "npy_intp n = PyArray_DIM(a, i);\nPyArray_DIMS(a)[i] = k;\ni++;\nPyArray_DIMS(a)[i] = n;";
    "Keep the saved value, the index and the array variable unchanged through the window.";

    ChangesInLoop "DF123" "changes-in-loop" Manual
    "the index or the array changes in a loop around the write";
    "In a loop that does not read the saved value again, a later pass could restore a value \
     read from another slot or array.";
    "npy_intp n = PyArray_DIM(a, 0);\nfor (i = 0; i < 3; i++) {\n    PyArray_DIMS(a)[0] = k;\n    ...\n    PyArray_DIMS(a)[0] = n;\n    a = next;\n}";
    MANUAL_FIX;

    IndexVariable "DF124" "index-variable" Manual
    "a variable of the index is not a plain integer of this function";
    "Indexes must be made of the function's own integer variables whose address is at most \
     lent to a call before the read.";
    "PyArray_DIMS(a)[*axis] = n;";
    "Copy the index into a local integer first.";

    NotOwnVariable "DF130" "not-own-variable" Manual
    "a name the proof depends on is not one local variable of this function";
    "The array, the saved value and the index variables must each be declared exactly once \
     in the function, not `static`, `extern` or `volatile`, and not be a macro of the file.";
    "static npy_intp n;   /* shared between calls */";
    MANUAL_FIX;

    ArrayAddressTaken "DF131" "array-address-taken" Manual
    "the address of the array variable is taken";
    "Through the pointer the variable can change in ways not tracked.";
    "f(&a);";
    MANUAL_FIX;

    SecondName "DF132" "second-name" Manual
    "another variable holds the same array";
    "Shape reads through the second name would not see the copy.";
    "PyArrayObject *b = a;";
    MANUAL_FIX;

    ArrayStored "DF133" "array-stored" Manual
    "the array is stored where other code can reach it before the restore";
    "Code between the write and the restore could read the real shape through there.";
    "state->arr = a;";
    MANUAL_FIX;

    ShapePointerStored "DF134" "shape-pointer-stored" Manual
    "the array's shape pointer is stored";
    "Reads through the stored pointer would not see a copy.";
    "info->shape = PyArray_DIMS(a);";
    MANUAL_FIX;

    RawField "DF135" "raw-dimensions-field" Manual
    "`X->dimensions` reaches the storage directly";
    "A field access on the array variable itself cannot be redirected to a copy.";
    "a->dimensions[0] = n;";
    MANUAL_FIX;

    NotPlainVariable "DF136" "not-plain-variable" Manual
    "the array is not a plain variable";
    "Changes to an expression such as `self->arr` cannot be tracked.";
    "PyArray_DIMS(self->arr)[0] = n;";
    "Load the array into a local variable first.";

    ReassignedInWindow "DF137" "reassigned-in-window" Manual
    "the array variable is reassigned between the write and the restore";
    "The restore would then write another array.";
    "PyArray_DIMS(a)[0] = n;\na = b;\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    ShapeReaderInWindow "DF140" "shape-reader-in-window" Manual
    "code between the write and the restore reads the real shape through the array";
    "`PyArray_SIZE(X)`, `PyArray_DIM(X, i)` and friends read the array's own storage: a \
     local copy cannot redirect them.";
    "PyArray_DIMS(a)[0] = n;\nsize = PyArray_SIZE(a);\nPyArray_DIMS(a)[0] = old;";
    "Compute what is needed from the local shape (`PyArray_MultiplyList(dims, nd)`) by hand.";

    PassedInWindow "DF141" "passed-in-window" Manual
    "the array is passed to a function that may read its shape";
    "A function given the array itself reads its real shape; only NumPy's constructors' \
     `obj`/`base` arguments are known to be harmless.";
    "PyArray_DIMS(a)[0] = n;\nresult = do_something(a);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    EscapesInWindow "DF142" "escapes-in-window" Manual
    "the array is returned, stored or has its address taken in the window";
    "Other code may then see the changed shape.";
    "PyArray_DIMS(a)[0] = n;\nstate->arr = a;\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    MetadataInWindow "DF143" "metadata-in-window" Manual
    "the array's metadata changes between the write and the restore";
    "Another in-place change in the window: the change is not a plain temporary one.";
    "PyArray_DIMS(a)[0] = n;\n((PyArrayObject_fields *)a)->nd = 1;\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    ShapePassedInWindow "DF144" "shape-passed-in-window" Manual
    "the shape is passed to a function that may write through it or keep it";
    "Only functions known to copy the shape they are given (NumPy's constructors, \
     `PyArray_MultiplyList`, memcpy's source) can see a copy instead.";
    "PyArray_DIMS(a)[0] = n;\nfill_shape(PyArray_DIMS(a));\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    ShapePointerInWindow "DF145" "shape-pointer-in-window" Manual
    "the shape pointer itself is kept or used in the window";
    "Pointed at a copy, a kept, compared or measured pointer would change meaning.";
    "PyArray_DIMS(a)[0] = n;\nnpy_intp *p = PyArray_DIMS(a);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    ReadAfterRestore "DF146" "read-after-restore" Manual
    "the shape is read in the window after a restore";
    "A copy would still hold the changed value there.";
    "PyArray_DIMS(a)[0] = n;\nPyArray_DIMS(a)[0] = old;\nuse(PyArray_DIMS(a)[0]);";
    MANUAL_FIX;

    OtherAlias "DF147" "other-alias" Manual
    "another alias points at the real shape and would not see the change";
    "Reads through an alias of the real storage would miss the copy.";
    "npy_intp *d = PyArray_DIMS(a);\nPyArray_DIMS(a)[0] = n;\nuse(d[0]);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    OtherArray "DF148" "other-array-shape" Manual
    "another array's shape is read or written in the window";
    "Nothing proves the other variable does not hold the same array (a caller may pass one \
     array twice), unless it is new.";
    "PyArray_DIMS(a)[0] = n;\nuse(PyArray_DIMS(b)[0]);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    ChangedBeforeWrite "DF149" "changed-before-write" Manual
    "the slot may change between the read of the saved value and the write";
    "A change there would be undone by the restore but kept with a copy.";
    "npy_intp n = PyArray_DIM(a, 0);\nupdate(a);\nPyArray_DIMS(a)[0] = k;\nPyArray_DIMS(a)[0] = n;";
    "Read the saved value just before the write.";

    AliasCopy "DF150" "alias-not-copyable" Manual
    "the alias written through cannot become the local copy";
    "An alias becomes the copy only when it is declared alone as `npy_intp *d = \
     PyArray_DIMS(X);`, never re-pointed, copied, returned or passed on outside the change, \
     and the array does not change while it is in use.";
    "npy_intp *d = PyArray_DIMS(a), *e = NULL;   /* declared with others */";
    "Declare the alias on its own line and use it only inside the change.";

    FileMacro "DF160" "file-macro-in-window" Manual
    "a macro of the file used in the window may reach the array or jump out";
    "The macro names the array itself, may `goto`/`return`/`break`/`continue`, or uses a \
     header macro whose expansion is unknown.";
    "#define CHECK(x) if (!(x)) goto fail\n...\nPyArray_DIMS(a)[0] = n;\nCHECK(ok);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    HeaderMacro "DF161" "header-macro" Manual
    "a macro from a header is used in the window or where the copy would be in scope";
    "An all-capitals name not defined in the file could jump out, read the shape, or name \
     the copy; `Py_RETURN_...` returns.";
    "PyArray_DIMS(a)[0] = n;\nCHECK_OR_FAIL(x);\nPyArray_DIMS(a)[0] = old;";
    MANUAL_FIX;

    MayWriteUnknownCallee "DF170" "may-write-unknown-callee" Manual
    "the live shape is passed as a non-const pointer to a function with no body in the tree";
    "The function is declared in the scanned tree (a prototype or `extern` declaration) with a \
     non-`const` pointer parameter, but its body is not there (another library, generated \
     code): it may write the shape it is given. Functions the tree defines are followed (one \
     level), also when a macro of the tree defines them; `const` parameters are reads.";
    "extern void fill_shape(npy_intp *dims);\nfill_shape(PyArray_DIMS(a));";
    "Read the callee. If it only reads, declare the parameter `const npy_intp *` (or mark the \
     site `/* dims-fix: allow(manual) reads only */`); if it writes, see numpy#28197.";

    MayWriteFunctionPointer "DF171" "may-write-function-pointer" Manual
    "the live shape is passed to a function pointer, which may write through it";
    "What a function pointer calls is not known where it is called: it may write the shape \
     it is given (f2py's fortran_setattr passes `PyArray_DIMS(arr)` to generated Fortran \
     that sets it).";
    "void (*fill)(npy_intp *) = lookup(name);\nfill(PyArray_DIMS(a));";
    "Find what it points at. If it only reads, mark the site \
     `/* dims-fix: allow(manual) reads only */`; if it writes, see numpy#28197.";

    OtherNameInWindow "DF180" "other-name-in-window" Manual
    "a name that may denote the array is used between the write and the restore";
    "The array can be reached by other names than its variable: what it was assigned or cast \
     from (`a = (PyArrayObject *)self`, `a = ops[i]`, `a = ctx->arr`, `b = \
     PyArray_CheckAxis(a, ...)`, which may return its input), the containers and structs it \
     was stored in, what was assigned from it, other parameters and globals that may hold an \
     object (a caller may pass one array twice). Code that reaches the array through such a \
     name sees the changed shape; after a rewrite it would see the real one.";
    "PyArrayObject *a = ops[0];\nnpy_intp n = PyArray_DIM(a, 0);\nPyArray_DIMS(a)[0] = v;\nseen = PyArray_DIM(ops[0], 0);   /* the same array */\nPyArray_DIMS(a)[0] = n;";
    MANUAL_FIX;

    FileFunctionReachesGlobal "DF181" "file-function-reaches-global" Manual
    "a function of the file called in the window reads a global that may hold the array";
    "The function (or one it calls) names a global of the file that may hold an object, which \
     may be this array: through it the function sees the changed shape.";
    "static PyArrayObject *current;\nstatic npy_intp rows(void) { return PyArray_DIM(current, 0); }\n...\nPyArray_DIMS(a)[0] = v;\nseen = rows();\nPyArray_DIMS(a)[0] = n;";
    MANUAL_FIX;

    IncludeInWindow "DF182" "include-in-window" Manual
    "an `#include` between the write and the restore brings code the analysis cannot see";
    "The included code may read the shape, name the array, or jump out; dims-fix reads only \
     the file itself.";
    "PyArray_DIMS(a)[0] = v;\n#include \"step.inc\"\nPyArray_DIMS(a)[0] = n;";
    "Move the included code into a function or macro of the file, or check it by hand.";

    TemplateToken "DF183" "template-token-in-window" Manual
    "a `.c.src` template token in the window may expand to a name of the array or to code";
    "A token such as `@arr@` or `@CHECK@(x)` that is a whole word can expand to anything: the \
     array, another name of it, or a macro. Tokens inside a longer name (`NPY_@TYPE@`) that \
     cannot spell a name of the array are fine.";
    "PyArray_DIMS(a)[0] = v;\nseen = PyArray_DIM(@arr@, 0);\nPyArray_DIMS(a)[0] = n;";
    MANUAL_FIX;

    LineContinuation "DF184" "line-continuation" Manual
    "a line continuation would join a line the rewrite inserts or removes";
    "A line ending in a backslash (or in `??/`, a backslash under the trigraphs of -std=c99 \
     and c11, even in a `//` comment) is joined to the next: a line inserted or removed after \
     it would change what the compiler reads.";
    "// a comment ??/\nPyArray_DIMS(a)[0] = v;";
    "Remove the continuation (or the trigraph) from the line before the write.";

    SavedLeftUnused "DF185" "saved-value-left-unused" Manual
    "the saved value would be set but never used, and its assignment cannot go alone";
    "Once the restore is removed nothing reads the saved value; its assignment shares a \
     statement with other code (a label, a larger expression), so removing it is not a whole \
     line's change, and keeping it adds a compiler warning.";
    "again: n = PyArray_DIM(a, 0);\nPyArray_DIMS(a)[0] = v;\nPyArray_DIMS(a)[0] = n;";
    "Put the read of the saved value in a statement of its own.";

    WriteInLambda "DF186" "write-in-lambda" Manual
    "a C++ lambda lies between the write and its restore";
    "A write inside a lambda runs when the lambda is called, which may be after the restore, \
     many times or never; a change and its restore on two sides of the lambda's boundary are \
     not one window, and a copy outside cannot stand for the shape inside.";
    "PyArray_DIMS(a)[0] = n;\nauto f = [&] { PyArray_DIMS(a)[0] = old; };\nf();";
    "Build the shape in a local copy inside the lambda (or pass one in), then run dims-fix \
     again.";

    MayThrowInWindow "DF187" "may-throw-in-window" Manual
    "a C++ call between the write and the restore may throw, skipping the restore";
    "An exception leaves the window like a `return` does: the change persists. Only C API \
     calls (NumPy, CPython, the C library) are taken not to throw, unless the function is \
     `noexcept`.";
    "PyArray_DIMS(a)[0] = n;\nstd::vector<npy_intp> v(n);   /* may throw */\nPyArray_DIMS(a)[0] = old;";
    "Build the shape in a local copy (nothing to undo then), or declare the function \
     `noexcept` if nothing in it can throw.";

    RestoreInDestructor "DF188" "restore-in-destructor" Manual
    "no statement undoes the change; a C++ local object's destructor may";
    "A local object of class type declared before the write in an enclosing block runs its \
     destructor when the block is left, however it is left: a guard that puts the shape back \
     there restores it, but the restore is not a statement of the function, so it cannot be \
     proven, and a copy cannot replace it.";
    "ShapeGuard guard(a);   /* ~ShapeGuard() puts the shape back */\nPyArray_DIMS(a)[0] = n;";
    "Read the destructor. If it restores the shape, build the shape in a local copy instead \
     (no guard needed), or mark the site `/* dims-fix: allow(manual) restored by guard */`.";

    RestoreSkipped "DF190" "restore-skipped" Manual
    "an exit between a metadata change and its restore skips the restore: a bug";
    "A field of the array (its descr, flags, nd, data or base) is changed and put back later, \
     but a `return`, `goto`, `break`, `continue` or `throw` between the two leaves without \
     the put-back: on that path the change stays, even with one thread (NumPy 2.2's \
     `partition(..., order=)` left the array with the reordered dtype when `kth` could not be \
     converted). This reason outranks every other.";
    "((PyArrayObject_fields *)self)->descr = newd;\nk = PyArray_FromAny(...);\nif (k == NULL)\n    return NULL;   /* skips the restore */\n...\n((PyArrayObject_fields *)self)->descr = saved;";
    "Make the restore on that path too (the smallest fix), then consider removing the \
     temporary change altogether: for a dtype swap, call the code on a view made with the \
     other dtype (`PyArray_View(self, newd, NULL)`), so the array itself never changes.";

    TemporaryMetadata "DF191" "temporary-metadata" Manual
    "a metadata field of a possibly shared array is changed for a while, then put back";
    "The array's descr, flags, nd, data or base is set, code runs, and the saved value is put \
     back. Every other thread reading the array meanwhile sees the temporary value. A local \
     copy cannot stand in for it: the code in between reads the field from the array itself.";
    "saved = PyArray_DESCR(self);\n((PyArrayObject_fields *)self)->descr = newd;\nPyArray_Sort(self, axis, kind);\n((PyArrayObject_fields *)self)->descr = saved;";
    "Work on a view that has the temporary value instead of the array (`PyArray_View(self, \
     newd, NULL)` for a dtype; a new array header for flags), or hold a lock that every \
     reader takes too.";

    MetadataSetAgain "DF192" "metadata-set-again" Manual
    "a metadata field is changed and set again to a value not saved from it";
    "The field is assigned twice on a possibly shared array, the second time a value that was \
     not read from the field before the first (`out->nd = 1; ... out->nd = 0;`): meant as a \
     restore, it cannot be proven one, and other threads see the change in between.";
    "((PyArrayObject_fields *)out)->nd = 1;\n...\n((PyArrayObject_fields *)out)->nd = 0;";
    "Save the field's value before the change and put that back, or better, do not change a \
     shared array: pass the code a new array or view with the metadata it needs.";

    AssignsMetadata "DF201" "assigns-metadata" Lock
    "the function assigns the array's own metadata: an intended in-place change";
    "On an array that is not new, the function also assigns `->nd`, `->dimensions`, \
     `->strides`, `->descr` or `->data` (the dtype and shape setters, resize, unpickling, \
     pointer swaps). A local copy cannot fix it.";
    "((PyArrayObject_fields *)self)->nd = nd;\nPyArray_DIMS(self)[0] = n;";
    "A critical section around the whole change (Py_BEGIN_CRITICAL_SECTION(self) ... \
     Py_END_CRITICAL_SECTION(), or Py_BEGIN_CRITICAL_SECTION2 for two arrays) makes concurrent \
     calls of the function safe against each other; it cannot protect readers, since every \
     PyArray_DIMS() reads without it. Where readers must be safe too, NumPy has deprecated the \
     public mutator (setting .shape, .strides, .dtype), used WRITEBACKIFCOPY or worked on a \
     copy. dims-fix inserts a TODO above the first statement of the change saying this.";

    FreesShape "DF202" "frees-shape" Lock
    "the function frees the array's shape storage: an intended in-place change";
    "`npy_free_cache_dim_array(X)` (or freeing its shape pointer) replaces the storage: the \
     change is meant to stay.";
    "npy_free_cache_dim_array(self);\n((PyArrayObject_fields *)self)->dimensions = dims;";
    "As for DF201: a critical section around the whole change keeps concurrent calls of the \
     function from freeing the same storage twice, but does not protect readers; the TODO \
     dims-fix inserts says what NumPy has done instead (see `dims-fix --explain DF201`).";

    SetsFlags "DF203" "sets-flags" Lock
    "the function changes the array's flags in place with NumPy's API";
    "`PyArray_ENABLEFLAGS`, `PyArray_CLEARFLAGS` or `PyArray_UpdateFlags` on an array the \
     function did not make, not put back: the flags of a possibly shared array change for \
     good while other threads may read them.";
    "PyArray_UpdateFlags(ao, NPY_ARRAY_C_CONTIGUOUS);   /* ao is the caller's array */";
    "If the array may be shared, compute what is needed without storing it in the array's \
     flags (NumPy removed such a call in 2.3), or take a lock around the change; see \
     `dims-fix --explain DF201`.";

    FreshAllocation "DF301" "fresh-array" Fresh
    "the array was allocated in this function and nobody else can see it yet";
    "An array made by NumPy's constructors (`PyArray_NewFromDescr`, `PyArray_SimpleNew`, \
     ...), `tp_alloc` or `PyObject_New` reaches the write on every path before it is \
     returned, stored or passed on: safe.";
    "r = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_INTP);\nPyArray_DIMS(r)[0] = 0;";
    "Nothing.";

    FreshFromTreeFunction "DF302" "fresh-from-tree-function" Fresh
    "the array comes from a function of the tree that returns new arrays";
    "A function of the scanned tree returns only new arrays (or NULL), and the result \
     reaches the write before anyone else can see it: safe.";
    "r = make_array(n);   /* returns PyArray_SimpleNew(...) */\nPyArray_DIMS(r)[0] = 0;";
    "Nothing.";

    FreshInCallers "DF303" "fresh-in-callers" Fresh
    "the function changes an array in place, but every caller passes one it just made";
    "The array is a parameter, changed in place (the shape, `->nd`, ...). Code outside the \
     scanned tree cannot call the function (`static`, `NPY_NO_EXPORT`, \
     `NPY_VISIBILITY_HIDDEN`), its name is used only to call it, and every call in the tree \
     passes an array the caller made just before and has not yet returned, stored or passed \
     on: nobody else can see the change. The report names each caller and the line of its \
     call. A caller that may pass a shared array keeps the finding a lock, and its reason \
     names that call.";
    "static void drop_axes(PyArrayObject *a) { ((PyArrayObject_fields *)a)->nd = 1; PyArray_DIMS(a)[0] = 0; }\nr = (PyArrayObject *)PyArray_View(self, NULL, NULL);\ndrop_axes(r);";
    "Nothing, as long as the function stays internal to the tree. A new caller that passes a \
     shared array (or exporting the function) makes it a lock finding again.";

    TemporaryChange "DF400" "temporary-change" Rewrite
    "a temporary change of a possibly shared array's shape, restored on every path";
    "The race of numpy#28197: other threads read the shape while it is changed. A local copy \
     removes it; dims-fix rewrites it.";
    "npy_intp n = PyArray_DIM(aop, axis);\nPyArray_DIMS(aop)[axis] = total;\nret = PyArray_NewFromDescr(..., PyArray_DIMS(aop), ...);\nPyArray_DIMS(aop)[axis] = n;";
    "Apply the rewrite (`--apply` or `--commit`).";

    TemporaryWrite "DF401" "temporary-write" Rewrite
    "a write that is undone later: goes to the local copy";
    "The site's change is restored to the saved value on every path.";
    "PyArray_DIMS(aop)[axis] = total;   /* becomes dims[axis] = total; */";
    "Apply the rewrite.";

    RestoresOriginal "DF402" "restore" Rewrite
    "puts the original value back: removed by the rewrite";
    "The restore stores the value read from the same slot before the write.";
    "PyArray_DIMS(aop)[axis] = n;   /* removed */";
    "Apply the rewrite.";

    Unparsed "DF501" "unparsed-function" Manual
    "the code around the write did not parse as a function";
    "tree-sitter does not expand macros; a macro it cannot read left an ERROR node where the \
     function should be. The write is reported, never edited.";
    "MY_EXPORT_MACRO(int) f(PyArrayObject *a) { PyArray_DIMS(a)[0] = 1; }";
    "Check it by hand, or blank the macro with `--ignore-macro NAME`.";

    ParseError "DF502" "parse-error-near-write" Manual
    "a parse error overlaps the finding's statements or window";
    "Where tree-sitter could not parse, a write or its restore may have been swallowed: the \
     finding is manual, never rewritten.";
    "GUARD(a)\nPyArray_DIMS(a)[0] = k;";
    "Check it by hand, or blank the macro with `--ignore-macro NAME`.";

    InComment "DF503" "inside-comment" Manual
    "as the file is written, the site is inside a comment or a string";
    "tree-sitter may parse on through an unterminated comment that a compiler would not.";
    "/* never closed\nPyArray_DIMS(a)[0] = n;";
    "Check it by hand; close the comment.";

    PerBranch "DF504" "read-per-branch" Manual
    "preprocessor branches make the function read differently; analysed per branch, not rewritten";
    "Branches of an `#if` that open or close braces differently cannot be parsed together. \
     The function is read once per branch configuration (the other branches blanked) and the \
     sites of every reading are reported, each with the branch it was seen in. A rewrite \
     proven on one reading may not hold on another, so none is made.";
    "#if PY_VERSION_HEX >= 0x030E00B0\n    if (!unique(self)) {\n#else\n    if (Py_REFCNT(self) > 2) {\n#endif\n        return -1;\n    }\n    PyArray_DIMS(self)[0] = n;";
    "Check it by hand (the report names the branch each site was seen in).";

    OutsideFunction "DF505" "outside-function" Manual
    "a shape source is mentioned outside any function dims-fix could find";
    "Every mention of a shape source must end as a read, a site of a finding, or a finding \
     saying why it could not be analysed. This one is in top-level code that is not a \
     function definition as written: usually a macro that defines or opens a function.";
    "DEFINE_SETTER(first)\n    PyArray_DIMS(a)[0] = 1;\n}";
    "Check it by hand, or blank the macro with `--ignore-macro NAME`.";

    Unrecognised "DF506" "unrecognised-use" Manual
    "a shape source is used in a way the analysis could not place";
    "The mention is inside a function, but not as a read or write dims-fix understands: in \
     code tree-sitter could not parse (a macro it cannot read), or not called with one \
     array. It may be a write.";
    "UNKNOWN_MACRO(a) PyArray_DIMS(a)[0] = n;";
    "Check it by hand, or blank the macro with `--ignore-macro NAME`.";

    TooDeep "DF507" "too-deep" Manual
    "the code nests deeper than the analysis follows";
    "Expressions or blocks nested thousands of levels deep (generated code) are not walked \
     further, so no input can exhaust the stack or stall the run; what lies below is not \
     analysed.";
    "x = ((((((((((...PyArray_DIMS(a)[0]...))))))))));";
    "Check it by hand.";

    BranchNotRead "DF508" "branch-not-read" Manual
    "a shape source sits in a preprocessor branch beyond the readings made of one file";
    "A file whose `#if` branches open braces differently is read once per branch \
     configuration, at most 16 times; branches left over are not analysed.";
    "#if A\n{\n#elif B\n...  (more than 16 alternatives)";
    "Check it by hand.";

    InMacro "DF509" "metadata-in-macro" Manual
    "a macro's body changes an array's metadata, and its uses are not followed";
    "With `--fields`, a function-like macro of the tree whose body calls a flag setter or \
     assigns a selected field (`->descr = d`) changes the array it is given at every use, \
     but the analysis follows only the shape through macros of the tree: the uses are not \
     analysed.";
    "#define SET_ALIGNED(a) PyArray_ENABLEFLAGS(a, NPY_ARRAY_ALIGNED)";
    "Check each use by hand, or write the change out where the macro is used.";

    KnR "DF570" "knr-definition" Manual
    "K&R definitions are not analysed";
    "An old-style definition declares its parameters' types between the parameter list and \
     the body (`f(a) PyArrayObject *a; { ... }`); the analysis does not follow them, so it \
     cannot tell what a parameter is. The writes are reported, never edited.";
    "static void\nf(a, n)\n    PyArrayObject *a;\n    npy_intp n;\n{\n    PyArray_DIMS(a)[0] = n;\n}";
    "Check it by hand, or give the function a prototype-style definition.";

    Graph "DF571" "digraph-or-trigraph" Manual
    "the function uses digraph or trigraph brackets, which are not analysed";
    "`<%`, `%>`, `<:`, `:>`, `%:` and trigraphs (`??<`, `??(`, `??=`, ...) spell braces, \
     brackets and `#` for a compiler; the parser reads them as other tokens. Every shape \
     source the function mentions is reported, none is analysed or edited.";
    "void f(PyArrayObject *a)\n<%\n    PyArray_DIMS(a)<:0:> = 1;\n%>";
    "Spell the brackets plainly, or check the function by hand.";

    MacroBrace "DF572" "braces-from-macro" Manual
    "a brace of the function comes from a macro, so it is not analysed";
    "A macro of the file expands to an unbalanced `{` or `}` (`#define BEGIN {`); the parser \
     does not expand macros, so it cannot tell where the function's blocks are. Every shape \
     source the function mentions is reported, none is analysed or edited.";
    "#define BEGIN {\n#define END }\nvoid f(PyArrayObject *a)\nBEGIN\n    PyArray_DIMS(a)[0] = 1;\nEND";
    "Write the braces out, or check the function by hand.";

    Unterminated "DF573" "unterminated-literal" Manual
    "an unterminated string or character literal comes before, so the code is not analysed";
    "A literal that its line ends before closing is an error for a compiler, and after it the \
     parser's reading of the file is a guess. Every shape source that follows is reported, \
     none is analysed or edited.";
    "static const char *msg = \"never closed;\n\nvoid f(PyArrayObject *a) { PyArray_DIMS(a)[0] = 1; }";
    "Close the literal.";

    LoneCr "DF574" "lone-cr-line-endings" Manual
    "the file ends lines in a carriage return alone: analysed, never edited";
    "Old Mac line endings (`\\r` without `\\n`) end lines for a compiler, so the analysis \
     reads them so and reports true line numbers; but git and patch see the whole file as one \
     line, so no diff of it could be applied. The finding is reported and left for a person.";
    "/* every line of the file ends in \\r alone */";
    "Convert the file's line endings (to \\n or \\r\\n), then run dims-fix again.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_has_one_rule_with_a_unique_id_and_slug() {
        let mut ids = HashSet::new();
        let mut slugs = HashSet::new();
        let mut codes = HashSet::new();
        for r in RULES {
            assert!(ids.insert(r.id), "{} twice", r.id);
            assert!(slugs.insert(r.slug), "{} twice", r.slug);
            assert!(codes.insert(r.code), "{:?} twice", r.code);
            assert!(r.id.len() == 5 && r.id.starts_with("DF"), "{}", r.id);
            let family = match r.class {
                Class::Manual => ["DF1", "DF5"],
                Class::Lock => ["DF2", "DF2"],
                Class::Fresh => ["DF3", "DF3"],
                Class::Rewrite => ["DF4", "DF4"],
            };
            assert!(family.iter().any(|f| r.id.starts_with(f)), "{}", r.id);
            for text in [r.summary, r.meaning, r.example, r.fix] {
                assert!(!text.trim().is_empty(), "{}", r.id);
            }
        }
        assert_eq!(rule("df110").unwrap().slug, "jump-leaves-window");
        assert_eq!(rule("jump-leaves-window").unwrap().id, "DF110");
        assert!(rule("DF999").is_none());
    }
}
