/* genesis.c - names for the genesis configuration's enumerations. */
#include "chain/genesis.h"

const char *consensus_type_name(enum consensus_type t)
{
    return t == CONSENSUS_PBFT ? "pbft" : "raft";
}
