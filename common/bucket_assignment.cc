#include "common/bucket_assignment.h"
