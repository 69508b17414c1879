/*
 * fixtures/strides: strided_view(a, step) views a's data with the first
 * stride scaled. Steps that would reach past the data are not called: 0,
 * 1, or any step over a single row.
 */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(strided_view(EQ_ARRAY(3, 4), 1)); }
    EQ_CALL { EQ_OBJ(strided_view(EQ_ARRAY(3, 4), 0)); }
    EQ_CALL { EQ_OBJ(strided_view(EQ_ARRAY(2, 3, 4), 0)); }
    EQ_CALL { EQ_OBJ(strided_view(EQ_ARRAY(1, 4), 3)); }
}
