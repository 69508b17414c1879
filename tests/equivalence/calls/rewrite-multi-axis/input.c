/* fixtures/rewrite-multi-axis: swapped_shape(arr) swaps the first two axes. */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_UNINIT(swapped_shape(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_UNINIT(swapped_shape(EQ_ARRAY(2, 3, 4))); }
}
