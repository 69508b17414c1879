/* fixtures/rewrite-name-macro: grown(a, rows), and the macros still read. */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(grown(EQ_ARRAY(3, 4), 5)); }
    EQ_CALL { EQ_OBJ(grown(EQ_ARRAY(2, 3, 4), 0)); }
    EQ_CALL { EQ_INT(limit()); }
}
