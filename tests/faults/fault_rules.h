/* fault_rules.h - the shim's side of the rules (fault_rules.c): what the
 * interposed functions ask before each call. */
#ifndef BUDP_FAULT_RULES_H
#define BUDP_FAULT_RULES_H

#include "fault_shim.h"

/* 1 when caller (a return address) lies in libbatchudp's code. */
int fault_from_library(const void *caller);

/* Count a call to c made from caller; when the library made it and c's
 * rule (one that fails calls or shortens them) matches it, copy the rule
 * into *out and return 1. */
int fault_take(enum fault_call c, const void *caller, struct fault_spec *out);

/* The same for a call that returned data, after it returned: rules that
 * craft results count and match only these. */
int fault_take_result(enum fault_call c, const void *caller, struct fault_spec *out);

/* Forget every rule and count. */
void fault_rules_reset(void);

#endif
