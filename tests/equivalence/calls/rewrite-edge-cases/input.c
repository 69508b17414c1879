/* fixtures/rewrite-edge-cases: five functions, each on (3, 4) and (2, 3, 4). */
static void
equiv_calls(void)
{
    EQ_CALL {
        PyObject *other = NULL;
        EQ_OBJ(copy_named_around_macro(EQ_ARRAY(3, 4), &other));
        EQ_SEE("other", other);
    }
    EQ_CALL {
        PyObject *other = NULL;
        EQ_OBJ(copy_named_around_macro(EQ_ARRAY(2, 3, 4), &other));
        EQ_SEE("other", other);
    }
    EQ_CALL { EQ_OBJ(conditional_write(EQ_ARRAY(3, 4), 1)); }
    EQ_CALL { EQ_OBJ(conditional_write(EQ_ARRAY(3, 4), 0)); }
    EQ_CALL { EQ_OBJ(conditional_write(EQ_ARRAY(2, 3, 4), 1)); }
    EQ_CALL { EQ_OBJ(comma_joined(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_OBJ(comma_joined(EQ_ARRAY(2, 3, 4))); }
    EQ_CALL { EQ_OBJ(last_axis(EQ_ARRAY(3, 4))); }
    EQ_CALL { EQ_OBJ(last_axis(EQ_ARRAY(2, 3, 4))); }
    EQ_CALL { EQ_OBJ(braced_case(EQ_ARRAY(3, 4), 0)); }
    EQ_CALL { EQ_OBJ(braced_case(EQ_ARRAY(3, 4), 1)); }
    EQ_CALL { EQ_OBJ(braced_case(EQ_ARRAY(2, 3, 4), 0)); }
}
