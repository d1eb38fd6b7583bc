#include "common/decision.h"
