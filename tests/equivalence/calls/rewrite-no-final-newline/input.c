/* fixtures/rewrite-no-final-newline: last(arr). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(last(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_OBJ(last(EQ_ARRAY(2, 3, 4))); }
}
