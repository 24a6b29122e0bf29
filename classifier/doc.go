// Package classifier decides what a helpdesk ticket is about and what the
// worker should do with it.
//
// It is pure: no I/O, no package-level state. A [Classifier] is compiled once
// from a [Rules] document (the embedded rules.yaml, or a file the operator
// supplies) and is then safe for concurrent use.
//
// The way a ticket goes through it:
//
//  1. Cleaning ([clean.go]): HTML tags and entities, Jira wiki markup, quoted
//     helpdesk replies ("> " lines, "On … wrote:", Outlook headers,
//     <blockquote>, {quote}), lines echoing earlier bot or agent comments,
//     e-mail signatures and legal disclaimers are set aside. Signatures are
//     kept apart for the platform only ("Sent from my iPhone").
//  2. Normalisation ([normalize.go]): Unicode compatibility decomposition
//     (NFKD, a superset of NFKC), case folding, diacritics removed, curly
//     quotes and dashes straightened, contractions expanded ("didn't" →
//     "did not"), then tokenised with sentence boundaries.
//  3. Matching ([match.go]): one pass over the tokens through a trie of every
//     phrase of every rule (token ids, not characters), with typo tolerance
//     (a symmetric-delete index of the rules' vocabulary), prefix terms,
//     filler words skipped inside phrases, and topic negation ("this is NOT
//     about my passkey").
//  4. Decision ([decide.go]): the thread rules of the SPEC — categories and
//     platform from the reporter's own text only, an agent comment means
//     human, after the bot's steps "works now" resolves, "still fails"
//     escalates, new information replies with the new categories only —
//     and a confidence below which the action is human.
//
// Every decision carries its evidence: each matched phrase, the rule it
// came from and where in the ticket it was found.
package classifier
