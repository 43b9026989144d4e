/* Lets Swift import the public header of libbatchudp as module CBatchUDP.
 * The include path comes from pkg-config (batchudp.pc). */
#ifndef CBATCHUDP_SHIM_H
#define CBATCHUDP_SHIM_H
#include <batchudp.h>
#endif
