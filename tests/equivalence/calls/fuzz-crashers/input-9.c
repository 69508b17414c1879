// equiv: does-not-compile fuzzer output (stray bytes, a function cut in half); its one rewrite, copy_named_aroundUmacro, is rewrite-edge-cases' copy_named_around_macro, which is called there
