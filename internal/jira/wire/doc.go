// Package wire is Jira's JSON as this module reads it: the shapes of users,
// issues and comments that webhook deliveries (internal/intake) and REST v2
// answers (internal/jira) share, Jira's timestamps, and the conversion of a
// rich-text field (a wiki-markup string or an Atlassian Document Format
// document) to plain text. It is the one definition of each; it depends on
// the standard library only.
//
// Reading is lenient, because payloads differ between Jira Cloud, Server and
// Data Center and between their versions: every field is optional, a
// [String] accepts a string, a number or a boolean, a [Time] accepts every
// timestamp form Jira writes, and a value of an unexpected type reads as
// empty instead of failing. A caller decides whether a json.UnmarshalTypeError
// from a field of a plain Go type (a list, a count) fails the whole document.
package wire
