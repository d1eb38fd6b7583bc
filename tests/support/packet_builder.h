// PacketBuilder: builds Ethernet frames for tests and benchmarks (filled in with the parser).
#pragma once
