// DatagramReader on a real UDP socket pair on 127.0.0.1 (port 0, no root): one read returns the
// whole queue, in order, each datagram with an arrival stamp from the kernel.
#include "agent/datagram_reader.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace nlb::agent {
namespace {

using Clock = std::chrono::steady_clock;

class DatagramReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_ = socket(AF_INET, SOCK_DGRAM, 0);
    sender_ = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(receiver_, 0);
    ASSERT_GE(sender_, 0);
    const int buffer = 4 << 20;  // room for the largest queue below
    (void)setsockopt(receiver_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(receiver_, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
    socklen_t len = sizeof(to_);
    ASSERT_EQ(getsockname(receiver_, reinterpret_cast<sockaddr*>(&to_), &len), 0);
  }
  void TearDown() override {
    if (receiver_ >= 0) close(receiver_);
    if (sender_ >= 0) close(sender_);
  }
  // Loopback delivery completes within sendto: the datagram is queued when it returns.
  void Send(const std::string& payload) {
    ASSERT_EQ(sendto(sender_, payload.data(), payload.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to_), sizeof(to_)),
              static_cast<ssize_t>(payload.size()));
  }
  // Linux turns receive stamping on for the whole system a little after the first socket asks
  // (a deferred static key); until then it stamps at read time. Waits, with a deadline, until a
  // probe read 10 ms after its send carries its send time.
  void WaitForKernelStamps(DatagramReader& reader) {
    ASSERT_TRUE(DatagramReader::EnableArrivalStamps(receiver_).ok());
    for (int attempt = 0; attempt < 100; ++attempt) {
      const Clock::time_point sent = Clock::now();
      Send("probe");
      while (Clock::now() < sent + std::chrono::milliseconds(10)) {
      }
      const std::span<const ReceivedDatagram> batch = reader.ReadQueued(receiver_);
      if (batch.size() == 1 && batch[0].arrival < sent + std::chrono::milliseconds(5)) return;
    }
    FAIL() << "the kernel never stamped a datagram at its arrival";
  }
  static std::string Text(const ReceivedDatagram& d) {
    return std::string(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size());
  }

  int receiver_ = -1;
  int sender_ = -1;
  sockaddr_in to_{};
};

TEST_F(DatagramReaderTest, OneReadReturnsTheWholeQueueInOrderWithArrivalStamps) {
  DatagramReader reader;
  WaitForKernelStamps(reader);  // leaves the queue drained
  const Clock::time_point before = Clock::now();
  constexpr int kQueued = 200;  // more than three recvmmsg rounds
  std::vector<Clock::time_point> sent;
  for (int i = 0; i < kQueued; ++i) {
    sent.push_back(Clock::now());
    Send("heartbeat " + std::to_string(i));
  }
  const Clock::time_point after = Clock::now();
  const std::span<const ReceivedDatagram> batch = reader.ReadQueued(receiver_);
  ASSERT_EQ(batch.size(), static_cast<size_t>(kQueued));
  for (int i = 0; i < kQueued; ++i) {
    EXPECT_EQ(Text(batch[i]), "heartbeat " + std::to_string(i));
    EXPECT_EQ(batch[i].from.ToString(), "127.0.0.1");
    // The kernel's stamp: at or after its send started, before the read (1 ms of slack each
    // way for the wall-to-steady conversion), and never before the previous datagram's.
    EXPECT_GE(batch[i].arrival, sent[i] - std::chrono::milliseconds(1)) << i;
    EXPECT_LE(batch[i].arrival, after + std::chrono::milliseconds(1)) << i;
    if (i > 0) {
      EXPECT_GE(batch[i].arrival, batch[i - 1].arrival) << i;
    }
  }
  EXPECT_GE(batch.front().arrival, before - std::chrono::milliseconds(1));
  EXPECT_EQ(reader.counters().unstamped, 0u);
  EXPECT_EQ(reader.counters().largest_batch, static_cast<uint64_t>(kQueued));
  EXPECT_GE(reader.counters().rounds, 4u);
  EXPECT_TRUE(reader.ReadQueued(receiver_).empty());
}

TEST_F(DatagramReaderTest, StampsAreTheArrivalNotTheRead) {
  DatagramReader reader;
  WaitForKernelStamps(reader);
  Send("early");
  const Clock::time_point sent = Clock::now();
  // The loop is "stalled" for 50 ms (a wait on the clock, not on an event: the point is the
  // gap) before it reads.
  while (Clock::now() < sent + std::chrono::milliseconds(50)) {
  }
  const std::span<const ReceivedDatagram> batch = reader.ReadQueued(receiver_);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_LE(batch[0].arrival, sent + std::chrono::milliseconds(5));
}

TEST_F(DatagramReaderTest, WithoutKernelStampsDatagramsAreStampedAtReadAndCounted) {
  DatagramReader reader;
  Send("a");
  Send("b");
  const Clock::time_point before_read = Clock::now();
  const std::span<const ReceivedDatagram> batch = reader.ReadQueued(receiver_);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_GE(batch[0].arrival, before_read);
  EXPECT_EQ(reader.counters().unstamped, 2u);
}

TEST_F(DatagramReaderTest, ABatchStopsAtItsBoundAndTheNextReadTakesTheRest) {
  ASSERT_TRUE(DatagramReader::EnableArrivalStamps(receiver_).ok());
  DatagramReader reader(/*max_batch=*/100);
  for (int i = 0; i < 130; ++i) Send(std::to_string(i));
  std::span<const ReceivedDatagram> batch = reader.ReadQueued(receiver_);
  ASSERT_EQ(batch.size(), 100u);
  EXPECT_EQ(Text(batch.back()), "99");
  EXPECT_EQ(reader.counters().full_batches, 1u);
  batch = reader.ReadQueued(receiver_);
  ASSERT_EQ(batch.size(), 30u);
  EXPECT_EQ(Text(batch.front()), "100");
}

TEST_F(DatagramReaderTest, OversizedDatagramsAreCountedAndLeftOut) {
  DatagramReader reader;
  Send(std::string(DatagramReader::kDatagramSlotSize + 1, 'x'));
  Send("fits");
  const std::span<const ReceivedDatagram> batch = reader.ReadQueued(receiver_);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(Text(batch[0]), "fits");
  EXPECT_EQ(reader.counters().truncated, 1u);
}

TEST_F(DatagramReaderTest, AReadErrorIsCountedNotThrown) {
  DatagramReader reader;
  const int closed = dup(receiver_);
  close(closed);
  EXPECT_TRUE(reader.ReadQueued(closed).empty());
  EXPECT_EQ(reader.counters().read_errors, 1u);
}

}  // namespace
}  // namespace nlb::agent
