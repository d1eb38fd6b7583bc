// XdpAttachment against the kernel, in a network namespace of the test's own (unshare, so that
// no interface of the machine is touched; it goes when the process ends): refusal of a driver
// without native XDP naming the interface, attach, the MAC written for delivery, the checks
// that repair needs (program detached, delivery filter deleted, MAC changed), another program's
// hook left alone, a crashed nlbd's program replaced, detach only of our own, and `nlbd
// --cleanup`'s leftover removal. Needs root (skips otherwise) and `ip` (iproute2) for the veth
// pair.
#include "agent/xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "agent/bpf_plane.h"
#include "common/bpf/xdp_layout.h"

namespace nlb::agent {
namespace {

constexpr char kInterface[] = "nlbx0";

std::unique_ptr<BpfPlane> LoadXdp() {
  BpfPlane::LoadOptions options;
  options.hook = BpfPlane::Hook::kXdp;
  options.flow_capacity = 1024;  // the test needs no room for flows
  Result<std::unique_ptr<BpfPlane>> plane = BpfPlane::Load(options);
  EXPECT_TRUE(plane.ok()) << plane.status().ToString();
  return plane.ok() ? std::move(plane).value() : nullptr;
}

bool Shell(const std::string& command) { return std::system(command.c_str()) == 0; }

std::string SettingsMac(const BpfPlane& plane) {
  nlb_xdp_settings settings{};
  const uint32_t zero = 0;
  if (bpf_map_lookup_elem(plane.xdp_settings_fd(), &zero, &settings) != 0) return "?";
  char text[18];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", settings.mac[0],
                settings.mac[1], settings.mac[2], settings.mac[3], settings.mac[4],
                settings.mac[5]);
  return text;
}

// An XDP program that is not nlbd's: passes everything.
int LoadForeignProgram() {
  const bpf_insn pass[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  return bpf_prog_load(BPF_PROG_TYPE_XDP, "other_xdp", "GPL", pass, 2, &opts);
}

class XdpAttachTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    // This thread (and the `ip` it starts) in a namespace of its own from here on.
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    ASSERT_TRUE(Shell("ip link add " + std::string(kInterface) +
                      " address 02:00:5e:00:53:10 type veth peer name nlbx1 && ip link set " +
                      kInterface + " up && ip link set nlbx1 up"));
    in_namespace_ = true;
    char dir[] = "/tmp/nlb-xdp-attach-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    state_dir_ = dir;
  }
  static void TearDownTestSuite() {
    if (!state_dir_.empty()) Shell("rm -rf " + state_dir_);
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_TRUE(in_namespace_);
  }
  static bool in_namespace_;
  static std::string state_dir_;
};
bool XdpAttachTest::in_namespace_ = false;
std::string XdpAttachTest::state_dir_;

TEST_F(XdpAttachTest, RefusesADriverWithoutNativeXdpNamingIt) {
  std::unique_ptr<BpfPlane> plane = LoadXdp();
  ASSERT_NE(plane, nullptr);
  XdpAttachment lo("lo", plane->program_fd(), plane->xdp_settings_fd(), plane->xdp_deliver_fd(),
                   state_dir_);
  const Status s = lo.Attach();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("native XDP of lo"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("cannot run an XDP program natively"), std::string::npos)
      << s.message();
  EXPECT_FALSE(lo.attached());
}

TEST_F(XdpAttachTest, AttachCheckRepairDetach) {
  std::unique_ptr<BpfPlane> plane = LoadXdp();
  ASSERT_NE(plane, nullptr);
  XdpAttachment xdp(kInterface, plane->program_fd(), plane->xdp_settings_fd(),
                    plane->xdp_deliver_fd(), state_dir_);
  ASSERT_TRUE(xdp.Attach().ok());
  EXPECT_EQ(SettingsMac(*plane), "02:00:5e:00:53:10");
  const std::string record = XdpRecordFile(state_dir_, kInterface);
  EXPECT_EQ(access(record.c_str(), F_OK), 0) << "no record of the program's id";
  Result<bool> intact = xdp.Intact();
  ASSERT_TRUE(intact.ok()) << intact.status().ToString();
  EXPECT_TRUE(intact.value());

  // Taken away by hand: no longer intact; Attach puts it back.
  ASSERT_TRUE(Shell("ip link set dev " + std::string(kInterface) + " xdpdrv off"));
  EXPECT_FALSE(xdp.Intact().value());
  ASSERT_TRUE(xdp.Attach().ok());
  EXPECT_TRUE(xdp.Intact().value());

  // The delivery program at the tc hook taken away: not intact either.
  ASSERT_TRUE(Shell("tc filter show dev " + std::string(kInterface) +
                    " ingress | grep -q 'handle 0x4e4c'"));
  ASSERT_TRUE(Shell("tc filter del dev " + std::string(kInterface) + " ingress"));
  EXPECT_FALSE(xdp.Intact().value());
  ASSERT_TRUE(xdp.Attach().ok());
  EXPECT_TRUE(xdp.Intact().value());

  // The MAC changed under the program: not intact until Attach writes the new one.
  ASSERT_TRUE(Shell("ip link set dev " + std::string(kInterface) + " address 02:00:5e:00:53:11"));
  EXPECT_FALSE(xdp.Intact().value());
  ASSERT_TRUE(xdp.Attach().ok());
  EXPECT_EQ(SettingsMac(*plane), "02:00:5e:00:53:11");
  EXPECT_TRUE(xdp.Intact().value());

  xdp.Detach();
  uint32_t id = 1;
  ASSERT_EQ(bpf_xdp_query_id(static_cast<int>(if_nametoindex(kInterface)), XDP_FLAGS_DRV_MODE, &id),
            0);
  EXPECT_EQ(id, 0u) << "Detach left the program";
  EXPECT_FALSE(
      Shell("tc filter show dev " + std::string(kInterface) + " ingress | grep -q 'handle 0x4e4c'"))
      << "Detach left the delivery program";
  EXPECT_NE(access(record.c_str(), F_OK), 0) << "Detach left the record";
}

TEST_F(XdpAttachTest, LeavesAnotherProgramAlone) {
  const int ifindex = static_cast<int>(if_nametoindex(kInterface));
  const int foreign = LoadForeignProgram();
  ASSERT_GE(foreign, 0) << std::strerror(errno);
  ASSERT_EQ(bpf_xdp_attach(ifindex, foreign, XDP_FLAGS_DRV_MODE, nullptr), 0);
  std::unique_ptr<BpfPlane> plane = LoadXdp();
  ASSERT_NE(plane, nullptr);
  XdpAttachment xdp(kInterface, plane->program_fd(), plane->xdp_settings_fd(),
                    plane->xdp_deliver_fd(), state_dir_);
  const Status s = xdp.Attach();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("another program holds the hook"), std::string::npos) << s.message();
  bool removed = true;
  ASSERT_TRUE(DetachLeftoverXdp(state_dir_, kInterface, &removed).ok());
  EXPECT_FALSE(removed) << "--cleanup removed another's program";
  ASSERT_EQ(bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr), 0);
  close(foreign);
}

// A crashed nlbd's program is replaced by the next nlbd; the old attachment's Detach (if it ran
// late) leaves the new one; --cleanup removes what a crash left.
TEST_F(XdpAttachTest, ReplacesOnlyNlbdsOwnAndCleansUp) {
  std::unique_ptr<BpfPlane> crashed = LoadXdp();
  std::unique_ptr<BpfPlane> next = LoadXdp();
  ASSERT_NE(crashed, nullptr);
  ASSERT_NE(next, nullptr);
  XdpAttachment old_one(kInterface, crashed->program_fd(), crashed->xdp_settings_fd(),
                        crashed->xdp_deliver_fd(), state_dir_);
  ASSERT_TRUE(old_one.Attach().ok());
  XdpAttachment new_one(kInterface, next->program_fd(), next->xdp_settings_fd(),
                        next->xdp_deliver_fd(), state_dir_);
  ASSERT_TRUE(new_one.Attach().ok());
  EXPECT_TRUE(new_one.Intact().value());
  EXPECT_FALSE(old_one.Intact().value());
  old_one.Detach();
  EXPECT_TRUE(new_one.Intact().value()) << "the old attachment's Detach removed the new program";

  bool removed = false;
  ASSERT_TRUE(DetachLeftoverXdp(state_dir_, kInterface, &removed).ok());
  EXPECT_TRUE(removed);
  EXPECT_FALSE(new_one.Intact().value());
  ASSERT_TRUE(DetachLeftoverXdp(state_dir_, kInterface, &removed).ok());
  EXPECT_FALSE(removed);
}

}  // namespace
}  // namespace nlb::agent
