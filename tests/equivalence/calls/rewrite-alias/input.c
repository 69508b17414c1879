/* fixtures/rewrite-alias: flatten_leading(arr). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_UNINIT(flatten_leading(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_UNINIT(flatten_leading(EQ_ARRAY(2, 3, 4))); }
    EQ_CALL { EQ_UNINIT(flatten_leading(EQ_ARRAY(1, 5))); }
}
