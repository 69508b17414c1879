/* fixtures/repeat-temporary-axis: tile_along_axis(src, times, axis). */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(3, 4), 2, 0)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(3, 4), 3, 1)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(3, 4), 2, -1)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(3, 4), 0, 0)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(3, 4), 2, 2)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(2, 3, 4), 2, 0)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(2, 3, 4), 3, 2)); }
    EQ_CALL { EQ_UNINIT(tile_along_axis(EQ_ARRAY(2, 3, 4), 1, -2)); }
}
