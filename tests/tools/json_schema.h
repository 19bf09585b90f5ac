// json_schema.h - a small JSON Schema validator for the tools' schemas in
// docs/schemas/, and helpers to read JSON Lines
//
// Debian's nlohmann-json has no schema validator, so the tests carry this
// one. It knows the keywords the schemas use, with draft 2020-12's meaning:
//
//   type (a name or a list), enum, const, minimum, pattern (ECMAScript,
//   searched, not anchored), required, properties, additionalProperties
//   (false or a schema, for names not in `properties` of the same object),
//   items (one schema for every element), minItems, maxItems, oneOf, allOf,
//   $ref (to "#/$defs/NAME" only)
//
// and ignores the annotations $schema, $id, title, description, $defs.
// Any other keyword would be ignored silently, so Unsupported() lists them:
// a schema the tests use must have none (a check that the tests skip is no
// check). tests/tools/json_schema_test.cc holds the keyword self-tests.
//
//   const SchemaCheck check = SchemaCheck::FromFile("docs/schemas/restack-walk.schema.json");
//   for (const nlohmann::json& j : JsonLines(out)) EXPECT_EQ(check.Errors(j), NoErrors());
#pragma once

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/tools/diff_blame_files.h"

namespace restack::tools {

// The whole file as JSON; a parse error (or a missing file) throws.
inline nlohmann::json ReadJsonFile(const std::string& path) { return nlohmann::json::parse(ReadText(path)); }

// One JSON value per non-empty line (JSON Lines); a bad line throws.
inline std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// What Errors() returns for a conforming value, for EXPECT_EQ.
inline std::vector<std::string> NoErrors() { return {}; }

// Errors of a value against a schema (the root: the whole schema, for
// $ref), as "path: what" with paths like "$.frames[3].trust"; empty when it
// conforms. Not for sharing between threads: it caches compiled patterns.
class SchemaCheck {
 public:
  explicit SchemaCheck(nlohmann::json root) : root_(std::move(root)) {}
  static SchemaCheck FromFile(const std::string& path) { return SchemaCheck(ReadJsonFile(path)); }

  std::vector<std::string> Errors(const nlohmann::json& value) const {
    std::vector<std::string> errors;
    Check(root_, value, "$", errors);
    return errors;
  }

  // Keywords in the schema that this class does not check, as "path: keyword";
  // empty when every keyword is one of those above.
  // A $ref that is not "#/$defs/NAME" of an existing NAME is listed too.
  std::vector<std::string> Unsupported() const {
    std::vector<std::string> out;
    Walk(root_, "#", out);
    return out;
  }

 private:
  using json = nlohmann::json;

  static bool HasType(const json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    return false;
  }

  const json& Resolve(const std::string& ref) const {
    const std::string prefix = "#/$defs/";
    return root_.at("$defs").at(ref.substr(prefix.size()));
  }

  const std::regex& Regex(const std::string& pattern) const {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) it = regexes_.emplace(pattern, std::regex(pattern)).first;
    return it->second;
  }

  void Check(const json& schema, const json& v, const std::string& path,
             std::vector<std::string>& errors) const {
    if (schema.contains("$ref")) Check(Resolve(schema["$ref"]), v, path, errors);
    if (schema.contains("type")) {
      bool ok = false;
      if (schema["type"].is_string()) {
        ok = HasType(v, schema["type"]);
      } else {
        for (const json& t : schema["type"]) ok |= HasType(v, t);
      }
      if (!ok) errors.push_back(path + ": not of type " + schema["type"].dump());
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const json& e : schema["enum"]) found |= e == v;
      if (!found) errors.push_back(path + ": " + v.dump() + " not in " + schema["enum"].dump());
    }
    if (schema.contains("const") && schema["const"] != v) {
      errors.push_back(path + ": not " + schema["const"].dump());
    }
    if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>()) {
      errors.push_back(path + ": below " + schema["minimum"].dump());
    }
    if (schema.contains("pattern") && v.is_string() &&
        !std::regex_search(v.get<std::string>(), Regex(schema["pattern"]))) {
      errors.push_back(path + ": " + v.dump() + " does not match " + schema["pattern"].dump());
    }
    if (schema.contains("required") && v.is_object()) {
      for (const json& r : schema["required"]) {
        if (!v.contains(r.get<std::string>())) errors.push_back(path + ": no " + r.get<std::string>());
      }
    }
    if (schema.contains("properties") && v.is_object()) {
      for (const auto& [name, sub] : schema["properties"].items()) {
        if (v.contains(name)) Check(sub, v[name], path + "." + name, errors);
      }
    }
    if (schema.contains("additionalProperties") && v.is_object()) {
      const json& extra = schema["additionalProperties"];
      for (const auto& [name, sub] : v.items()) {
        if (schema.contains("properties") && schema["properties"].contains(name)) continue;
        if (extra.is_boolean()) {
          if (!extra.get<bool>()) errors.push_back(path + ": unexpected " + name);
        } else {
          Check(extra, sub, path + "." + name, errors);
        }
      }
    }
    if (schema.contains("items") && v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        Check(schema["items"], v[i], path + "[" + std::to_string(i) + "]", errors);
      }
    }
    if (schema.contains("minItems") && v.is_array() && v.size() < schema["minItems"].get<size_t>()) {
      errors.push_back(path + ": fewer than " + schema["minItems"].dump() + " items");
    }
    if (schema.contains("maxItems") && v.is_array() && v.size() > schema["maxItems"].get<size_t>()) {
      errors.push_back(path + ": more than " + schema["maxItems"].dump() + " items");
    }
    if (schema.contains("allOf")) {
      for (const json& sub : schema["allOf"]) Check(sub, v, path, errors);
    }
    if (schema.contains("oneOf")) {
      size_t matches = 0;
      std::string why;  // each branch's first error, when none matches
      for (size_t i = 0; i < schema["oneOf"].size(); ++i) {
        std::vector<std::string> e;
        Check(schema["oneOf"][i], v, path, e);
        matches += e.empty();
        if (!e.empty()) why += " [" + std::to_string(i) + "] " + e.front();
      }
      if (matches != 1) {
        errors.push_back(path + ": matches " + std::to_string(matches) + " of oneOf, not 1" +
                         (matches == 0 ? ";" + why : ""));
      }
    }
  }

  // Unsupported(): every subschema's keywords.
  void Walk(const json& schema, const std::string& path, std::vector<std::string>& out) const {
    static const std::set<std::string> kKnown = {
        "type",  "enum",     "const",    "minimum", "pattern", "required", "properties",
        "additionalProperties", "items", "minItems", "maxItems", "oneOf", "allOf", "$ref",
        "$schema", "$id", "title", "description", "$defs"};
    if (!schema.is_object()) return;  // `true`/`false` schemas have no keywords
    for (const auto& [key, sub] : schema.items()) {
      if (!kKnown.count(key)) out.push_back(path + ": " + key);
    }
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"].get<std::string>();
      const std::string prefix = "#/$defs/";
      if (ref.rfind(prefix, 0) != 0 || !root_.contains("$defs") ||
          !root_["$defs"].contains(ref.substr(prefix.size()))) {
        out.push_back(path + ": $ref " + ref);
      }
    }
    for (const char* map : {"properties", "$defs"}) {
      if (!schema.contains(map)) continue;
      for (const auto& [name, sub] : schema[map].items()) Walk(sub, path + "/" + map + "/" + name, out);
    }
    for (const char* one : {"additionalProperties", "items"}) {
      if (schema.contains(one)) Walk(schema[one], path + "/" + one, out);
    }
    for (const char* list : {"oneOf", "allOf"}) {
      if (!schema.contains(list)) continue;
      for (size_t i = 0; i < schema[list].size(); ++i) {
        Walk(schema[list][i], path + "/" + list + "/" + std::to_string(i), out);
      }
    }
  }

  json root_;
  mutable std::map<std::string, std::regex> regexes_;  // compiled `pattern`s
};

}  // namespace restack::tools
