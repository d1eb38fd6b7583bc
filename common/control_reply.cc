#include "common/control_reply.h"

#include "common/json_writer.h"

namespace nlb {

std::string ControlRefusal(uint16_t host, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(false).Key("host").Uint(host);
  w.Key("code").String(code).Key("error").String(message).EndObject();
  return w.str();
}

std::string ControlDone(uint16_t host, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(true).Key("host").Uint(host).Key("result").String(message);
  w.EndObject();
  return w.str();
}

}  // namespace nlb
