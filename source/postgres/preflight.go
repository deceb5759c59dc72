package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// quoteTable returns the quoted "schema"."table" of t.
func quoteTable(t event.TableID) string {
	return pgx.Identifier{t.Namespace, t.Name}.Sanitize()
}

func walLevelError(level string) error {
	return &PermanentError{
		What: fmt.Sprintf("wal_level is %q, logical replication needs \"logical\"", level),
		Fix:  "ALTER SYSTEM SET wal_level = logical; then restart the server (wal_level only changes at a restart)",
	}
}

func replicationPrivilegeError(role string) error {
	return &PermanentError{
		What: fmt.Sprintf("role %q has neither the REPLICATION attribute nor superuser", role),
		Fix:  fmt.Sprintf("ALTER ROLE %s REPLICATION;", pgx.Identifier{role}.Sanitize()),
	}
}

func selectPrivilegeError(role string, t event.TableID) error {
	return &PermanentError{
		What: fmt.Sprintf("role %q may not SELECT from table %s", role, t),
		Fix:  fmt.Sprintf("GRANT SELECT ON %s TO %s;", quoteTable(t), pgx.Identifier{role}.Sanitize()),
	}
}

func slotsExhaustedError(used, max int) error {
	return &PermanentError{
		What: fmt.Sprintf("all %d replication slots are in use (max_replication_slots = %d) and the slot must be created", used, max),
		Fix:  "drop an unused slot (SELECT pg_drop_replication_slot('name');) or raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = N; and restart the server)",
	}
}

func walSendersExhaustedError(used, max int) error {
	return &PermanentError{
		What: fmt.Sprintf("all %d WAL senders are in use (max_wal_senders = %d)", used, max),
		Fix:  "stop an unused replication client or raise max_wal_senders (ALTER SYSTEM SET max_wal_senders = N; and restart the server)",
	}
}

func missingTableError(pattern string) error {
	return &PermanentError{
		What: fmt.Sprintf("table pattern %q matches no table", pattern),
		Fix:  "create the table, or correct source.tables (\"schema.table\", globs allowed)",
	}
}

// missingIdentityFix is the statement that lets updates and deletes of t
// be replicated.
func missingIdentityFix(t event.TableID) string {
	return fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL; (or add a primary key)", quoteTable(t))
}

func missingIdentityError(ts []event.TableID) error {
	var fixes []string
	var names []string
	for _, t := range ts {
		names = append(names, t.String())
		fixes = append(fixes, missingIdentityFix(t))
	}
	return &PermanentError{
		What: fmt.Sprintf("tables without primary key or replica identity, whose updates and deletes cannot be replicated: %s", strings.Join(names, ", ")),
		Fix:  strings.Join(fixes, " "),
	}
}

func slotLostError(slot string, cp event.Position) error {
	return &PermanentError{
		What: fmt.Sprintf("replication slot %q does not exist but a checkpoint at %s does: changes since the checkpoint may be missing", slot, cp),
		Fix:  "re-snapshot: delete the pipeline's checkpoint (and clear the target if it is a replica) and restart with snapshot: initial, which creates a new slot; the slot is never recreated silently",
	}
}

func slotMismatchError(slot, what string) error {
	return &PermanentError{
		What: fmt.Sprintf("replication slot %q exists but %s", slot, what),
		Fix:  "configure another slot name (source.postgres.slot), or drop that slot if it is unused (SELECT pg_drop_replication_slot('" + slot + "');)",
	}
}

// tableInfo is one row of listTables.
type tableInfo struct {
	id        event.TableID
	identity  byte // relreplident
	hasPK     bool
	hasRIIdx  bool
	canSelect bool
	published bool // the publication covers it
}

// listTables lists the tables and partitioned tables of the database
// outside the system schemas, and whether publication pub covers them.
func listTables(ctx context.Context, conn *pgx.Conn, pub string) ([]tableInfo, error) {
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, c.relreplident::text,
		EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
		EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident),
		has_table_privilege(c.oid, 'SELECT'),
		(n.nspname, c.relname) IN (SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables WHERE pubname = $1)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
		ORDER BY 1, 2`, pub)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var all []tableInfo
	for rows.Next() {
		var t tableInfo
		var ident string
		if err := rows.Scan(&t.id.Namespace, &t.id.Name, &ident, &t.hasPK, &t.hasRIIdx, &t.canSelect, &t.published); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if ident != "" {
			t.identity = ident[0]
		}
		all = append(all, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return all, nil
}

// identityOK reports whether updates and deletes of the table carry a key.
func (t tableInfo) identityOK() bool {
	switch t.identity {
	case 'f':
		return true
	case 'i':
		return t.hasRIIdx
	case 'd':
		return t.hasPK
	}
	return false
}

// resolveTables matches the patterns against the listed tables. Every
// pattern must match a table.
func resolveTables(pats []tablePattern, all []tableInfo) ([]tableInfo, error) {
	var out []tableInfo
	var errs []error
	for _, p := range pats {
		n := 0
		for _, t := range all {
			if p.match(t.id.Namespace, t.id.Name) {
				n++
				if !slices.ContainsFunc(out, func(o tableInfo) bool { return o.id == t.id }) {
					out = append(out, t)
				}
			}
		}
		if n == 0 {
			errs = append(errs, missingTableError(p.text))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// slotInfo is the slot's row in pg_replication_slots.
type slotInfo struct {
	exists         bool
	plugin         string
	slotType       string
	database       string
	confirmedFlush pglogrepl.LSN
	walStatus      string
}

// preflight checks the server and the role and resolves the tables.
func (s *Source) preflight(ctx context.Context, conn *pgx.Conn) (tables []tableInfo, slot slotInfo, db string, err error) {
	var level, role string
	var super, repl bool
	var maxSlots, usedSlots, maxSenders, usedSenders int
	err = conn.QueryRow(ctx, `SELECT current_setting('wal_level'), current_user, current_database(),
		r.rolsuper, r.rolreplication,
		current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int,
		current_setting('max_wal_senders')::int,
		(SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'walsender')::int
		FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`).Scan(
		&level, &role, &db, &super, &repl, &maxSlots, &usedSlots, &maxSenders, &usedSenders)
	if err != nil {
		return nil, slot, "", fmt.Errorf("preflight: read server settings: %w", err)
	}
	if level != "logical" {
		return nil, slot, "", walLevelError(level)
	}
	if !super && !repl {
		return nil, slot, "", replicationPrivilegeError(role)
	}
	if usedSenders >= maxSenders {
		return nil, slot, "", walSendersExhaustedError(usedSenders, maxSenders)
	}

	slot, err = readSlot(ctx, conn, s.opts.Slot)
	if err != nil {
		return nil, slot, "", err
	}
	if !slot.exists && usedSlots >= maxSlots {
		return nil, slot, "", slotsExhaustedError(usedSlots, maxSlots)
	}

	all, err := listTables(ctx, conn, s.opts.Publication)
	if err != nil {
		return nil, slot, "", fmt.Errorf("preflight: %w", err)
	}
	tables, err = resolveTables(s.pats, all)
	if err != nil {
		return nil, slot, "", err
	}
	var noIdentity []event.TableID
	for _, t := range tables {
		if !t.canSelect {
			return nil, slot, "", selectPrivilegeError(role, t.id)
		}
		if !t.identityOK() {
			noIdentity = append(noIdentity, t.id)
		}
	}
	if len(noIdentity) > 0 {
		if s.opts.MissingIdentity == "error" {
			return nil, slot, "", missingIdentityError(noIdentity)
		}
		for _, t := range noIdentity {
			s.log.Warn("table has no primary key or replica identity: its updates and deletes cannot be replicated",
				"table", t.String(), "fix", missingIdentityFix(t))
		}
	}
	return tables, slot, db, nil
}

func readSlot(ctx context.Context, conn *pgx.Conn, name string) (slotInfo, error) {
	var si slotInfo
	var plugin, database, confirmed, walStatus *string
	err := conn.QueryRow(ctx, `SELECT plugin, slot_type, database, confirmed_flush_lsn::text, wal_status
		FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, name).Scan(
		&plugin, &si.slotType, &database, &confirmed, &walStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return si, nil
	}
	if err != nil {
		return si, fmt.Errorf("read replication slot %q: %w", name, err)
	}
	si.exists = true
	si.plugin, si.database, si.walStatus = deref(plugin), deref(database), deref(walStatus)
	if confirmed != nil {
		if si.confirmedFlush, err = pglogrepl.ParseLSN(*confirmed); err != nil {
			return si, fmt.Errorf("read replication slot %q: %w", name, err)
		}
	}
	return si, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ensurePublication creates or updates the publication so that it covers
// exactly tables (when CreatePublication), or checks that it covers them.
func (s *Source) ensurePublication(ctx context.Context, conn *pgx.Conn, tables []tableInfo) error {
	pub := s.opts.Publication
	qpub := pgx.Identifier{pub}.Sanitize()
	var list []string
	want := map[event.TableID]bool{}
	for _, t := range tables {
		list = append(list, quoteTable(t.id))
		want[t.id] = true
	}
	var all bool
	err := conn.QueryRow(ctx, `SELECT puballtables FROM pg_catalog.pg_publication WHERE pubname = $1`, pub).Scan(&all)
	if errors.Is(err, pgx.ErrNoRows) {
		create := "CREATE PUBLICATION " + qpub + " FOR TABLE " + strings.Join(list, ", ")
		if !s.opts.CreatePublication {
			return &PermanentError{What: fmt.Sprintf("publication %q does not exist", pub), Fix: create + ";"}
		}
		if _, err := conn.Exec(ctx, create); err != nil {
			return fmt.Errorf("create publication %q: %w", pub, err)
		}
		s.log.Info("created publication", "publication", pub, "tables", len(list))
		return nil
	}
	if err != nil {
		return fmt.Errorf("read publication %q: %w", pub, err)
	}
	if all {
		return nil
	}
	rows, err := conn.Query(ctx, `SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables WHERE pubname = $1`, pub)
	if err != nil {
		return fmt.Errorf("read publication %q: %w", pub, err)
	}
	have := map[event.TableID]bool{}
	for rows.Next() {
		var t event.TableID
		if err := rows.Scan(&t.Namespace, &t.Name); err != nil {
			rows.Close()
			return fmt.Errorf("read publication %q: %w", pub, err)
		}
		have[t] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read publication %q: %w", pub, err)
	}
	var missing []string
	for _, t := range tables {
		if !have[t.id] {
			missing = append(missing, quoteTable(t.id))
		}
	}
	extra := false
	for t := range have {
		if !want[t] {
			extra = true
		}
	}
	if len(missing) == 0 && !extra {
		return nil
	}
	if !s.opts.CreatePublication {
		if len(missing) == 0 {
			return nil // covers more than needed: the source filters
		}
		return &PermanentError{
			What: fmt.Sprintf("publication %q does not cover tables %s", pub, strings.Join(missing, ", ")),
			Fix:  "ALTER PUBLICATION " + qpub + " ADD TABLE " + strings.Join(missing, ", ") + ";",
		}
	}
	if _, err := conn.Exec(ctx, "ALTER PUBLICATION "+qpub+" SET TABLE "+strings.Join(list, ", ")); err != nil {
		return fmt.Errorf("update publication %q: %w", pub, err)
	}
	s.log.Info("updated publication tables", "publication", pub, "tables", len(list))
	return nil
}
