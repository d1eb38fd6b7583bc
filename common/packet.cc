#include "common/packet.h"
