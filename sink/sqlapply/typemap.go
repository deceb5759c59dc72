package sqlapply

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// The type mapping used by create_tables is documented in doc.go; keep
// both in step.

// sqlType is a parsed type name: "numeric(10,2)" is {base "numeric",
// args ["10","2"]}, "bigint(20) unsigned" is {base "bigint", args ["20"],
// unsigned}, "timestamp(3) with time zone" is {base "timestamp with time
// zone", args ["3"]}, "integer[]" is {base "integer", array}.
type sqlType struct {
	base     string
	args     []string
	unsigned bool
	array    bool
}

func parseType(s string) sqlType {
	var t sqlType
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasSuffix(s, "[]") {
		t.array = true
		for strings.HasSuffix(s, "[]") {
			s = strings.TrimSuffix(s, "[]")
		}
	}
	var words []string
	for s != "" {
		i := strings.IndexAny(s, " (")
		switch {
		case i < 0:
			words = append(words, s)
			s = ""
		case s[i] == ' ':
			if i > 0 {
				words = append(words, s[:i])
			}
			s = s[i+1:]
		default: // '('
			if i > 0 {
				words = append(words, s[:i])
			}
			end := matchParen(s, i)
			if t.args == nil {
				for _, a := range strings.Split(s[i+1:end], ",") {
					t.args = append(t.args, strings.TrimSpace(a))
				}
			}
			s = s[min(end+1, len(s)):]
		}
	}
	for _, w := range words {
		switch w {
		case "unsigned":
			t.unsigned = true
		case "zerofill", "signed":
		default:
			if t.base != "" {
				t.base += " "
			}
			t.base += w
		}
	}
	return t
}

// matchParen returns the index of the ')' closing the '(' at i, skipping
// quoted text (enum labels); len(s) when there is none.
func matchParen(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\'':
			for j++; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(s)
}

func (t sqlType) arg(i int) (int, bool) {
	if i >= len(t.args) {
		return 0, false
	}
	n, err := strconv.Atoi(t.args[i])
	return n, err == nil
}

// PostgresType returns the Postgres type create_tables gives column c of
// a table read from a source of kind source ("postgres", "mysql"; any
// other value maps by the column's kind alone). For a Postgres source it
// is the source's own type; the dialect falls back to PostgresKindType
// when the target does not know it (an enum or domain not created there).
func PostgresType(c event.Column, source string) string {
	switch source {
	case "postgres":
		return c.Type
	case "mysql":
		return mysqlToPostgres(c)
	}
	return PostgresKindType(c.Kind)
}

// PostgresKindType is the Postgres type for values of kind k when the
// source type says nothing better.
func PostgresKindType(k event.Kind) string {
	switch k {
	case event.KindBool:
		return "boolean"
	case event.KindInt:
		return "bigint"
	case event.KindUint:
		return "numeric(20,0)"
	case event.KindFloat:
		return "double precision"
	case event.KindDecimal:
		return "numeric"
	case event.KindBytes:
		return "bytea"
	case event.KindTimestamp:
		return "timestamp with time zone"
	case event.KindDateTime:
		return "timestamp without time zone"
	case event.KindDate:
		return "date"
	case event.KindTime:
		return "interval"
	case event.KindJSON, event.KindArray:
		return "jsonb"
	}
	return "text"
}

func mysqlToPostgres(c event.Column) string {
	t := parseType(c.Type)
	p, hasP := t.arg(0)
	switch t.base {
	case "tinyint":
		if c.Kind == event.KindBool {
			return "boolean"
		}
		return "smallint"
	case "bool", "boolean":
		return "boolean"
	case "smallint":
		if t.unsigned {
			return "integer"
		}
		return "smallint"
	case "mediumint":
		return "integer"
	case "int", "integer":
		if t.unsigned {
			return "bigint"
		}
		return "integer"
	case "bigint":
		if t.unsigned {
			return "numeric(20,0)"
		}
		return "bigint"
	case "decimal", "numeric", "dec", "fixed":
		if !hasP {
			return "numeric(10,0)"
		}
		s, _ := t.arg(1)
		return fmt.Sprintf("numeric(%d,%d)", p, s)
	case "float":
		return "real"
	case "double", "double precision", "real":
		return "double precision"
	case "char", "varchar":
		if hasP && p > 0 {
			return fmt.Sprintf("character varying(%d)", p)
		}
		return "text"
	case "tinytext", "text", "mediumtext", "longtext":
		if c.Kind == event.KindJSON { // a MariaDB JSON column
			return "jsonb"
		}
		return "text"
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return "bytea"
	case "date":
		return "date"
	case "datetime":
		return withPrecision("timestamp", t, " without time zone")
	case "timestamp":
		return withPrecision("timestamp", t, " with time zone")
	case "time":
		// A MySQL TIME is a duration (-838:59:59 to 838:59:59); a Postgres
		// time only holds times of day.
		return "interval"
	case "year":
		return "smallint"
	case "json":
		return "jsonb"
	case "enum", "set":
		return "text"
	}
	return PostgresKindType(c.Kind)
}

func withPrecision(base string, t sqlType, suffix string) string {
	if p, ok := t.arg(0); ok && p >= 0 && p <= 6 {
		return fmt.Sprintf("%s(%d)%s", base, p, suffix)
	}
	return base + suffix
}

// MySQL limits the mapping respects.
const (
	mysqlMaxPrecision = 65
	mysqlMaxScale     = 30
	mysqlMaxVarchar   = 16383 // characters of utf8mb4 in a 65535-byte row
	mysqlKeyVarchar   = 255   // characters of a string key column
)

// MySQLType returns the MySQL type create_tables gives column c of a
// table read from a source of kind source; key reports whether c is a key
// column (MySQL cannot index TEXT and BLOB columns without a length, so
// those become VARCHAR(255) and VARBINARY(255)).
func MySQLType(c event.Column, source string, key bool) string {
	var typ string
	switch source {
	case "mysql":
		typ = c.Type
		if c.Kind == event.KindJSON {
			typ = "JSON"
		}
	case "postgres":
		typ = postgresToMySQL(c)
	default:
		typ = MySQLKindType(c.Kind)
	}
	if key {
		switch parseType(typ).base {
		case "longtext", "mediumtext", "text", "tinytext", "json":
			return fmt.Sprintf("VARCHAR(%d)", mysqlKeyVarchar)
		case "longblob", "mediumblob", "blob", "tinyblob":
			return fmt.Sprintf("VARBINARY(%d)", mysqlKeyVarchar)
		case "varchar":
			if p, ok := parseType(typ).arg(0); ok && p > 768 {
				return "VARCHAR(768)"
			}
		}
	}
	return typ
}

// MySQLKindType is the MySQL type for values of kind k when the source
// type says nothing better.
func MySQLKindType(k event.Kind) string {
	switch k {
	case event.KindBool:
		return "TINYINT(1)"
	case event.KindInt:
		return "BIGINT"
	case event.KindUint:
		return "BIGINT UNSIGNED"
	case event.KindFloat:
		return "DOUBLE"
	case event.KindDecimal:
		return "DECIMAL(65,30)"
	case event.KindBytes:
		return "LONGBLOB"
	case event.KindTimestamp, event.KindDateTime:
		return "DATETIME(6)"
	case event.KindDate:
		return "DATE"
	case event.KindTime:
		return "TIME(6)"
	case event.KindJSON, event.KindArray:
		return "JSON"
	}
	return "LONGTEXT"
}

func postgresToMySQL(c event.Column) string {
	t := parseType(c.Type)
	if t.array || c.Kind == event.KindArray {
		return "JSON"
	}
	p, hasP := t.arg(0)
	switch t.base {
	case "smallint", "int2":
		return "SMALLINT"
	case "integer", "int", "int4":
		return "INT"
	case "bigint", "int8":
		return "BIGINT"
	case "numeric", "decimal":
		if !hasP {
			return "DECIMAL(65,30)"
		}
		s, _ := t.arg(1)
		p, s = min(p, mysqlMaxPrecision), min(s, mysqlMaxScale)
		if s > p {
			s = p
		}
		return fmt.Sprintf("DECIMAL(%d,%d)", p, s)
	case "real", "float4":
		return "FLOAT"
	case "double precision", "float8":
		return "DOUBLE"
	case "boolean", "bool":
		return "TINYINT(1)"
	case "text", "citext":
		return "LONGTEXT"
	case "character varying", "varchar":
		if hasP && p <= mysqlMaxVarchar {
			return fmt.Sprintf("VARCHAR(%d)", p)
		}
		return "LONGTEXT"
	case "character", "char", "bpchar":
		if !hasP {
			p = 1
		}
		if p <= 255 {
			return fmt.Sprintf("CHAR(%d)", p)
		}
		if p <= mysqlMaxVarchar {
			return fmt.Sprintf("VARCHAR(%d)", p)
		}
		return "LONGTEXT"
	case "name":
		return "VARCHAR(64)"
	case "uuid":
		return "CHAR(36)"
	case "bytea":
		return "LONGBLOB"
	case "date":
		return "DATE"
	case "timestamp with time zone", "timestamptz", "timestamp without time zone", "timestamp":
		return mysqlPrecision("DATETIME", t)
	case "time without time zone", "time":
		return mysqlPrecision("TIME", t)
	case "json", "jsonb":
		return "JSON"
	case "oid", "xid", "cid":
		return "INT UNSIGNED"
	case "xid8":
		return "BIGINT UNSIGNED"
	}
	if c.Kind == event.KindString {
		// A type the mapping does not name whose values are strings: an
		// enum (or a domain over text).
		return "VARCHAR(255)"
	}
	return MySQLKindType(c.Kind)
}

func mysqlPrecision(base string, t sqlType) string {
	if p, ok := t.arg(0); ok && p >= 0 && p <= 6 {
		return fmt.Sprintf("%s(%d)", base, p)
	}
	return base + "(6)"
}
