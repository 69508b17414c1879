/* fixtures/template-src: @TYPE@_widen(self, by), for each TYPE. */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_UNINIT(BYTE_widen(EQ_ARRAY(3, 4), 2)); }
    EQ_CALL { EQ_UNINIT(SHORT_widen(EQ_ARRAY(2, 3, 4), 3)); }
    EQ_CALL { EQ_UNINIT(INT_widen(EQ_ARRAY(3, 4), 0)); }
}
