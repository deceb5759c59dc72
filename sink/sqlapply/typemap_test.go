package sqlapply

import (
	"testing"

	"github.com/cdcd-dev/cdcd/event"
)

func TestPostgresToMySQLTypes(t *testing.T) {
	for _, c := range []struct {
		typ  string
		kind event.Kind
		key  bool
		want string
	}{
		{"smallint", event.KindInt, false, "SMALLINT"},
		{"integer", event.KindInt, false, "INT"},
		{"bigint", event.KindInt, true, "BIGINT"},
		{"numeric(10,2)", event.KindDecimal, false, "DECIMAL(10,2)"},
		{"numeric(80,40)", event.KindDecimal, false, "DECIMAL(65,30)"},
		{"numeric(5)", event.KindDecimal, false, "DECIMAL(5,0)"},
		{"numeric", event.KindDecimal, false, "DECIMAL(65,30)"},
		{"real", event.KindFloat, false, "FLOAT"},
		{"double precision", event.KindFloat, false, "DOUBLE"},
		{"boolean", event.KindBool, false, "TINYINT(1)"},
		{"text", event.KindString, false, "LONGTEXT"},
		{"text", event.KindString, true, "VARCHAR(255)"},
		{"character varying(40)", event.KindString, false, "VARCHAR(40)"},
		{"character varying(40000)", event.KindString, false, "LONGTEXT"},
		{"character varying(1000)", event.KindString, true, "VARCHAR(768)"},
		{"character varying", event.KindString, false, "LONGTEXT"},
		{"character(3)", event.KindString, false, "CHAR(3)"},
		{"uuid", event.KindString, true, "CHAR(36)"},
		{"bytea", event.KindBytes, false, "LONGBLOB"},
		{"bytea", event.KindBytes, true, "VARBINARY(255)"},
		{"date", event.KindDate, false, "DATE"},
		{"timestamp without time zone", event.KindDateTime, false, "DATETIME(6)"},
		{"timestamp(3) with time zone", event.KindTimestamp, false, "DATETIME(3)"},
		{"time without time zone", event.KindTime, false, "TIME(6)"},
		{"json", event.KindJSON, false, "JSON"},
		{"jsonb", event.KindJSON, false, "JSON"},
		{"integer[]", event.KindArray, false, "JSON"},
		{"text[][]", event.KindArray, false, "JSON"},
		{"mood", event.KindString, false, "VARCHAR(255)"},
		{"interval", event.KindText, false, "LONGTEXT"},
		{"time with time zone", event.KindText, false, "LONGTEXT"},
		{"oid", event.KindUint, false, "INT UNSIGNED"},
		{"xid8", event.KindUint, false, "BIGINT UNSIGNED"},
		{"geometry", event.KindText, false, "LONGTEXT"},
	} {
		if got := MySQLType(event.Column{Type: c.typ, Kind: c.kind}, "postgres", c.key); got != c.want {
			t.Errorf("MySQLType(%s, key %v) = %s, want %s", c.typ, c.key, got, c.want)
		}
	}
}

func TestMySQLToPostgresTypes(t *testing.T) {
	for _, c := range []struct {
		typ  string
		kind event.Kind
		want string
	}{
		{"tinyint(1)", event.KindBool, "boolean"},
		{"tinyint(4)", event.KindInt, "smallint"},
		{"tinyint(3) unsigned", event.KindInt, "smallint"},
		{"smallint(5) unsigned", event.KindInt, "integer"},
		{"mediumint(8) unsigned", event.KindInt, "integer"},
		{"int(11)", event.KindInt, "integer"},
		{"int unsigned", event.KindInt, "bigint"},
		{"bigint(20)", event.KindInt, "bigint"},
		{"bigint(20) unsigned zerofill", event.KindUint, "numeric(20,0)"},
		{"decimal(30,10) unsigned", event.KindDecimal, "numeric(30,10)"},
		{"float", event.KindFloat, "real"},
		{"double", event.KindFloat, "double precision"},
		{"char(3)", event.KindString, "character varying(3)"},
		{"varchar(255)", event.KindString, "character varying(255)"},
		{"longtext", event.KindString, "text"},
		{"longtext", event.KindJSON, "jsonb"},
		{"varbinary(16)", event.KindBytes, "bytea"},
		{"blob", event.KindBytes, "bytea"},
		{"date", event.KindDate, "date"},
		{"datetime(6)", event.KindDateTime, "timestamp(6) without time zone"},
		{"datetime", event.KindDateTime, "timestamp without time zone"},
		{"timestamp(3)", event.KindTimestamp, "timestamp(3) with time zone"},
		{"time(2)", event.KindTime, "interval"},
		{"year(4)", event.KindInt, "smallint"},
		{"json", event.KindJSON, "jsonb"},
		{"enum('a','b,c','it''s)')", event.KindString, "text"},
		{"set('x','y')", event.KindString, "text"},
		{"bit(8)", event.KindUint, "numeric(20,0)"},
		{"geometry", event.KindBytes, "bytea"},
	} {
		if got := PostgresType(event.Column{Type: c.typ, Kind: c.kind}, "mysql"); got != c.want {
			t.Errorf("PostgresType(%s) = %s, want %s", c.typ, got, c.want)
		}
	}
	// Postgres to Postgres keeps the type; an unknown source falls back to
	// the kind.
	if got := PostgresType(event.Column{Type: "numeric(10,2)", Kind: event.KindDecimal}, "postgres"); got != "numeric(10,2)" {
		t.Errorf("postgres → postgres: %s", got)
	}
	if got := PostgresType(event.Column{Type: "whatever", Kind: event.KindUint}, ""); got != "numeric(20,0)" {
		t.Errorf("unknown source: %s", got)
	}
	if got := MySQLType(event.Column{Type: "bigint(20) unsigned", Kind: event.KindUint}, "mysql", true); got != "bigint(20) unsigned" {
		t.Errorf("mysql → mysql: %s", got)
	}
}
