/*
 * fixtures/parse-error-near-hit: clean(a, k). The file's other functions use
 * two statement-like macros it never defines (here they do nothing) and the
 * descriptor's `elsize` field, public from NumPy 2.0's API on.
 */
// equiv: cflags -DENTER_GUARD(x)= -DLEAVE_GUARD(x)= -DNPY_TARGET_VERSION=NPY_2_0_API_VERSION
static void
equiv_calls(void)
{
    EQ_CALL { EQ_UNINIT(clean(EQ_ARRAY(3, 4), 2)); }
    EQ_CALL { EQ_UNINIT(clean(EQ_ARRAY(3, 4), 0)); }
    EQ_CALL { EQ_UNINIT(clean(EQ_ARRAY(2, 3, 4), 5)); }
}
