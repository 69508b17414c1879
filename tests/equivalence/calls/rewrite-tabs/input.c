/* fixtures/rewrite-tabs: tabbed(arr); a single row takes the other path. */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(tabbed(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_OBJ(tabbed(EQ_ARRAY(2, 3, 4))); }
    EQ_CALL { EQ_OBJ(tabbed(EQ_ARRAY(1, 4))); }
}
