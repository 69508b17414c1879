/* fixtures/rewrite-unused-saved: each function on two shapes. */
static void
equiv_calls(void)
{
    EQ_CALL { EQ_OBJ(assigned_apart(EQ_ARRAY(3, 4), 5)); }
    EQ_CALL { EQ_OBJ(assigned_apart(EQ_ARRAY(2, 3, 4), 0)); }
    EQ_CALL { EQ_OBJ(declared_with_another(EQ_ARRAY(3, 4), 2)); }
    EQ_CALL { EQ_OBJ(two_saved(EQ_ARRAY(3, 4), 2)); }
    EQ_CALL { EQ_OBJ(two_saved(EQ_ARRAY(2, 3, 4), 1)); }
    EQ_CALL {
        npy_intp was = -1;
        EQ_OBJ(read_after(EQ_ARRAY(3, 4), 6, &was));
        EQ_SEE("was", PyLong_FromSsize_t(was));
    }
}
