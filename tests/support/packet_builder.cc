#include "tests/support/packet_builder.h"
