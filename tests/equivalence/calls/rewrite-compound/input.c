/* fixtures/rewrite-compound: doubled_rows(arr). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(doubled_rows(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_OBJ(doubled_rows(EQ_ARRAY(2, 3, 4))); }
}
