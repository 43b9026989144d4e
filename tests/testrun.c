/* testrun.c - the runner every suite's main() ends with.  A file of its own:
 * the libffi suite links it without the library. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "testutil.h"

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
