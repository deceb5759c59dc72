// Package config turns cdcd's YAML pipeline files into typed, validated
// structs.
//
// Load reads one file, or every *.yaml and *.yml file of a directory (one
// pipeline per file), and LoadBytes reads one document from memory. Both
// parse into yaml.Node trees and walk them by hand, so that every problem —
// an unknown key (with a "did you mean" suggestion), a value of the wrong
// type, an unset ${VAR}, an impossible combination of settings — is reported
// as an *Error naming the file, line, column and dotted key. Loading never
// stops at the first problem: all of them are returned together as Errors.
//
// Processing order for each scalar value: resolve aliases, expand ${VAR},
// ${VAR:-default} and $$ (see WithLookupEnv), then decode the text as the
// type the key expects (string, integer, boolean, Duration, ByteSize). Keys
// are never expanded. After decoding, defaults are applied (each field's
// doc comment states its default) and cross-field rules are checked; for a
// directory, rules spanning files are checked last (unique pipeline names,
// one shared admin server).
//
// Values that may hold secrets (DSNs, salts) are never quoted in errors;
// other quoted values pass through RedactDSN first.
//
// docs/config.md is the user-facing reference of every key.
package config
