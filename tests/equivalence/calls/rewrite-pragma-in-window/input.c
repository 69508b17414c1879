/* fixtures/rewrite-pragma-in-window: with_pragmas(a, rows). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(with_pragmas(EQ_ARRAY(3, 4), 5)); }
    EQ_CALL { EQ_OBJ(with_pragmas(EQ_ARRAY(2, 3, 4), 1)); }
}
