#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <array>
#include <exception>
#include <sstream>
#include <string>

namespace nlb {
namespace {

SourceLocation Location(const YAML::Mark& mark) {
  return mark.is_null() ? SourceLocation{} : SourceLocation{mark.line + 1, mark.column + 1};
}

// Records where each document starts; the nodes themselves come from YAML::Load.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts_[count_++ % 3] = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int count() const { return count_; }
  const YAML::Mark& start(int i) const { return starts_[i % 3]; }

 private:
  std::array<YAML::Mark, 3> starts_{};
  int count_ = 0;
};

std::string Describe(std::string_view text, const YAML::Mark& mark) {
  if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text.size()) return "unexpected input";
  const unsigned char c = static_cast<unsigned char>(text[static_cast<size_t>(mark.pos)]);
  if (c < 0x20 || c >= 0x7f) return "unexpected byte " + std::to_string(c);
  return std::string("unexpected '") + static_cast<char>(c) + "'";
}

// Empty when the text holds at most one document; else the error to report. At most three
// documents are parsed: the one, a possible second, and a third that shows whether the second
// consumed anything (one that did not is a stray token, not a document).
bool CheckOneDocument(std::string_view text, ConfigErrors* errors) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (starts.count() < 3 && parser.HandleNextDocument(starts)) {
    const int n = starts.count();
    if (n >= 2 && starts.start(n - 1).pos == starts.start(n - 2).pos) {
      const YAML::Mark& stuck = starts.start(n - 1);
      errors->Add(Location(stuck), "",
                  "YAML syntax error: " + Describe(text, stuck) +
                      (n == 2 ? ": expected a mapping with 'cluster:' and 'host:' sections"
                              : " after the end of the document"));
      return false;
    }
  }
  if (starts.count() >= 2) {
    errors->Add(Location(starts.start(1)), "",
                "found more than one YAML document ('---'); expected one");
    return false;
  }
  return true;
}

}  // namespace

YAML::Node LoadSingleDocument(std::string_view text, ConfigErrors* errors) {
  if (text.size() > kMaxConfigBytes) {
    errors->Add(
        {}, "",
        std::to_string(text.size()) + " bytes is too large for a configuration (limit 1 MiB)");
    return YAML::Node();
  }
  try {
    if (!CheckOneDocument(text, errors)) return YAML::Node();
    return YAML::Load(std::string(text));  // parses the first document only
  } catch (const YAML::ParserException& e) {
    errors->Add(Location(e.mark), "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    errors->Add(Location(e.mark), "", "cannot read the YAML: " + e.msg);
  } catch (const std::exception& e) {
    errors->Add({}, "", std::string("cannot read the YAML: ") + e.what());
  }
  return YAML::Node();
}

}  // namespace nlb
