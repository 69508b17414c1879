/* fixtures/rewrite-nested-block: maybe_widened(arr, widen). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(maybe_widened(EQ_ARRAY(3, 4), 1)); }
    EQ_CALL { EQ_OBJ(maybe_widened(EQ_ARRAY(3, 4), 0)); }
    EQ_CALL { EQ_OBJ(maybe_widened(EQ_ARRAY(2, 3, 4), 1)); }
}
