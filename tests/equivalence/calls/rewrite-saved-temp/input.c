/* fixtures/rewrite-saved-temp: with_last_axis(arr, n). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_UNINIT(with_last_axis(EQ_ARRAY(3, 4), 2)); }
    EQ_CALL { EQ_UNINIT(with_last_axis(EQ_ARRAY(3, 4), 0)); }
    EQ_CALL { EQ_UNINIT(with_last_axis(EQ_ARRAY(2, 3, 4), 7)); }
}
