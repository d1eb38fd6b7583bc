#include "config/health_check_section.h"

#include <array>
#include <utility>

#include "config/mapping_reader.h"

namespace nlb {
namespace {

constexpr std::array<std::pair<std::string_view, HealthCheckKind>, 4> kKinds{
    {{"http", HealthCheckKind::kHttp},
     {"https", HealthCheckKind::kHttps},
     {"tcp", HealthCheckKind::kTcp},
     {"command", HealthCheckKind::kCommand}}};

// Far above a sane probe; bounds what one check can cost the host.
constexpr uint32_t kMaxIntervalMs = 3600000;
constexpr size_t kMaxCommandWords = 32;

// A request target we write into the request line as is: no spaces or control characters.
bool IsRequestTarget(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

void ReadCommand(const FieldRef& field, HealthCheckSpec* spec, ConfigErrors* errors) {
  if (!field.node.IsSequence() || field.node.size() == 0) {
    errors->Add(LocationOf(field), field.path,
                "expected a list: the program's absolute path, then its arguments (like "
                "[/usr/local/bin/check-web, --quick]), found " +
                    DescribeValue(field.node));
    return;
  }
  if (field.node.size() > kMaxCommandWords) {
    errors->Add(LocationOf(field), field.path,
                std::to_string(field.node.size()) + " words is too many (at most 32)");
    return;
  }
  std::vector<std::string> words;
  for (size_t i = 0; i < field.node.size(); ++i) {
    const FieldRef word{field.node[i], field.path + "[" + std::to_string(i) + "]",
                        LocationOf(field)};
    std::optional<std::string> text = ReadString(word, errors);
    if (!text.has_value()) return;
    words.push_back(*text);
  }
  // Run without a shell or PATH lookup: what is written is exactly what runs.
  if (words[0][0] != '/') {
    errors->Add(LocationOf(field.node[0], LocationOf(field)), field.path + "[0]",
                "'" + words[0] +
                    "' is not an absolute path; the command is run directly, "
                    "without a shell or PATH");
    return;
  }
  spec->command = std::move(words);
}

}  // namespace

std::optional<HealthCheckSpec> ReadHealthCheck(const FieldRef& field, const PortRule& rule,
                                               ConfigErrors* errors) {
  const size_t errors_before = errors->size();
  if (!field.node.IsMap()) {
    errors->Add(LocationOf(field), field.path,
                "expected a mapping with 'type:' (http, https, tcp or command), found " +
                    DescribeValue(field.node));
    return std::nullopt;
  }
  if (rule.mode != FilteringMode::kMultipleHost) {
    // A check drains by announcing weight 0, and only multiple-host rules share by weight.
    errors->Add(LocationOf(field), field.path,
                "health checks are for multiple-host rules (mode: multiple); rule '" + rule.name +
                    "' is " + std::string(FilteringModeName(rule.mode)));
    return std::nullopt;
  }
  MappingReader reader(field,
                       {"type", "address", "port", "path", "expect_status", "expect_body",
                        "command", "interval_ms", "timeout_ms", "rise", "fall"},
                       errors);
  if (!reader.valid()) return std::nullopt;
  HealthCheckSpec spec;
  spec.rule = rule.name;
  const std::optional<FieldRef> type = reader.Require("type");
  if (!type.has_value()) return std::nullopt;
  const std::optional<HealthCheckKind> kind = ReadChoice<HealthCheckKind>(*type, kKinds, errors);
  if (!kind.has_value()) return std::nullopt;
  spec.kind = *kind;
  const bool http = spec.kind == HealthCheckKind::kHttp || spec.kind == HealthCheckKind::kHttps;
  const bool network = spec.kind != HealthCheckKind::kCommand;
  const std::string kind_name(HealthCheckKindName(spec.kind));

  // Fields of another type are refused rather than ignored: a `path:` on a tcp check is a
  // mistake the operator wants to hear about.
  struct Owned {
    const char* key;
    bool allowed;
    const char* types;
  };
  for (const Owned& o :
       {Owned{"address", network, "http, https or tcp"},
        Owned{"port", network, "http, https or tcp"}, Owned{"path", http, "http or https"},
        Owned{"expect_status", http, "http or https"}, Owned{"expect_body", http, "http or https"},
        Owned{"command", !network, "command"}}) {
    if (reader.Has(o.key) && !o.allowed) {
      const FieldRef f = reader.Field(o.key);
      errors->Add(LocationOf(f), f.path,
                  "only for type " + std::string(o.types) + ", not for a " + kind_name + " check");
    }
  }

  if (network && reader.Has("address")) {
    const FieldRef f = reader.Field("address");
    if (auto text = ReadString(f, errors)) {
      std::optional<IpAddress> address = IpAddress::Parse(*text);
      if (!address.has_value() || *address == address->Masked(0) ||
          (address->is_v4() ? address->bytes[0] >= 224 : address->bytes[0] == 0xff)) {
        errors->Add(LocationOf(f), f.path,
                    "'" + *text +
                        "' is not a unicast IPv4 or IPv6 address (like 127.0.0.1, "
                        "::1 or this host's dedicated address)");
      } else {
        spec.address = *address;
      }
    }
  }
  if (network) {
    if (reader.Has("port")) {
      if (auto v = ReadUnsigned(reader.Field("port"), 1, 65535, "a port", errors)) {
        spec.port = static_cast<uint16_t>(*v);
      }
    } else if (rule.first_port == rule.last_port && rule.first_port != 0) {
      spec.port = rule.first_port;
    } else {
      errors->Add(reader.location(), reader.path() + ".port",
                  "required because rule '" + rule.name + "' covers ports " +
                      std::to_string(rule.first_port) + "-" + std::to_string(rule.last_port) +
                      ", not exactly one");
    }
  }
  if (http && reader.Has("path")) {
    const FieldRef f = reader.Field("path");
    if (auto text = ReadString(f, errors)) {
      if (IsRequestTarget(*text)) {
        spec.path = *text;
      } else {
        errors->Add(LocationOf(f), f.path,
                    "'" + *text +
                        "' is not a request path (it starts with '/' and has no spaces "
                        "or control characters)");
      }
    }
  }
  if (http && reader.Has("expect_status")) {
    if (auto v = ReadUnsigned(reader.Field("expect_status"), 100, 599, "an HTTP status", errors)) {
      spec.expect_status = *v;
    }
  }
  if (http && reader.Has("expect_body")) {
    if (auto v = ReadString(reader.Field("expect_body"), errors)) spec.expect_body = *v;
  }
  if (!network) {
    if (auto f = reader.Require("command")) ReadCommand(*f, &spec, errors);
  }

  struct Bound {
    const char* name;
    uint32_t min;
    uint32_t max;
    const char* what;
    uint32_t* value;
  };
  const Bound bounds[] = {
      {"interval_ms", 100, kMaxIntervalMs, "a time in milliseconds", &spec.interval_ms},
      {"timeout_ms", 10, kMaxIntervalMs, "a time in milliseconds", &spec.timeout_ms},
      {"rise", 1, 100, "a count of probes", &spec.rise},
      {"fall", 1, 100, "a count of probes", &spec.fall},
  };
  for (const Bound& b : bounds) {
    if (!reader.Has(b.name)) continue;
    if (auto v = ReadUnsigned(reader.Field(b.name), b.min, b.max, b.what, errors)) *b.value = *v;
  }
  if (spec.timeout_ms > spec.interval_ms) {
    const FieldRef f =
        reader.Has("timeout_ms") ? reader.Field("timeout_ms") : reader.Field("interval_ms");
    errors->Add(LocationOf(f), f.path,
                "timeout_ms " + std::to_string(spec.timeout_ms) + " is above interval_ms " +
                    std::to_string(spec.interval_ms) +
                    "; a probe must end before the next one starts");
  }
  if (errors->size() != errors_before) return std::nullopt;
  return spec;
}

}  // namespace nlb
