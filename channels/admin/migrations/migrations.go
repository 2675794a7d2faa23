// Package migrations holds the schema of the tables channels/admin owns
// (the console's versions of knowledge documents and message wording):
// goose migrations, postgres/NNNNN_name.sql and sqlite/NNNNN_name.sql side
// by side, merged with every other owner's by internal/schema.
package migrations

import "embed"

// FS holds postgres/ and sqlite/, the same versions and names in each.
//
//go:embed postgres sqlite
var FS embed.FS
