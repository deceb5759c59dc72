package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// discovery adds tables created while streaming that match a pattern to
// the publication; see the package doc for what is captured of them.
type discovery struct {
	s *Source
	// told holds the tables already reported as not capturable, with the
	// reason, so that each is logged once per reason.
	told map[event.TableID]string
}

// discover runs a discovery round every interval until ctx is done.
func (st *stream) discover(interval time.Duration) {
	d := &discovery{s: st.s, told: map[event.TableID]string{}}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-st.ctx.Done():
			return
		case <-t.C:
		}
		if err := d.round(st.ctx); err != nil && st.ctx.Err() == nil {
			st.s.log.Warn("looking for new tables failed; trying again later", "err", err)
		}
	}
}

// round lists the tables matching a pattern that the publication does not
// cover and adds those that can be captured.
func (d *discovery) round(ctx context.Context) error {
	s := d.s
	return s.withMeta(func(c *pgx.Conn) error {
		all, err := listTables(ctx, c, s.opts.Publication)
		if err != nil {
			return err
		}
		var add []event.TableID
		for _, t := range all {
			if t.published || !s.captures(t.id) {
				continue
			}
			switch {
			case !t.canSelect:
				var role string
				if err := c.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil {
					return fmt.Errorf("read the role: %w", err)
				}
				d.tell(t.id, "select", "new table matches source.tables but may not be read; not captured",
					"fix", fmt.Sprintf("GRANT SELECT ON %s TO %s;", quoteTable(t.id), pgx.Identifier{role}.Sanitize()))
			case !s.opts.CreatePublication:
				d.tell(t.id, "publication", "new table matches source.tables but the publication does not cover it and create_publication is off; not captured",
					"fix", fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE %s;", pgx.Identifier{s.opts.Publication}.Sanitize(), quoteTable(t.id)))
			case !t.identityOK() && s.opts.MissingIdentity == "error":
				// Publishing it would make its updates and deletes fail.
				d.tell(t.id, "identity", "new table matches source.tables but has no primary key or replica identity; not captured until it has one",
					"fix", missingIdentityFix(t.id))
			default:
				if !t.identityOK() {
					s.log.Warn("new table has no primary key or replica identity: its updates and deletes cannot be replicated",
						"table", t.id.String(), "fix", missingIdentityFix(t.id))
				}
				add = append(add, t.id)
			}
		}
		if len(add) == 0 {
			return nil
		}
		pub := pgx.Identifier{s.opts.Publication}.Sanitize()
		list := make([]string, len(add))
		for i, t := range add {
			list[i] = quoteTable(t)
		}
		err = withLockTimeout(ctx, c, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "ALTER PUBLICATION "+pub+" ADD TABLE "+strings.Join(list, ", "))
			return err
		})
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe) && pe.Code == "42501": // insufficient_privilege: not the owner
			for _, t := range add {
				d.tell(t, "owner", "new table matches source.tables but adding it to the publication was refused; not captured",
					"err", err, "fix", fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE %s; as the table's owner", pub, quoteTable(t)))
			}
			return nil
		case err != nil:
			return fmt.Errorf("add new tables %s to publication %q: %w", strings.Join(list, ", "), s.opts.Publication, err)
		}
		var lsn string
		if err := c.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn); err != nil {
			return fmt.Errorf("read the WAL position: %w", err)
		}
		for _, t := range add {
			delete(d.told, t)
			// Rows written before the publication covered the table are
			// not in the stream: say so when there may be any.
			var rows bool
			err := withLockTimeout(ctx, c, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM "+quoteTable(t)+")").Scan(&rows)
			})
			switch {
			case err != nil:
				s.log.Warn("capturing new table; rows it held before may be missing from the stream (snapshot the table to get them)",
					"table", t.String(), "from_lsn", lsn, "err", err)
			case rows:
				s.log.Warn("capturing new table; the rows it held before are not in the stream (snapshot the table to get them)",
					"table", t.String(), "from_lsn", lsn)
			default:
				s.log.Info("capturing new table", "table", t.String(), "from_lsn", lsn)
			}
		}
		return nil
	})
}

// discoveryLockTimeout bounds how long discovery waits for a lock on a new
// table (a migration may hold one), so that the catalog connection, which
// the stream needs too, is never held for long.
const discoveryLockTimeout = 2 * time.Second

// withLockTimeout runs f in a transaction whose lock_timeout is
// discoveryLockTimeout.
func withLockTimeout(ctx context.Context, c *pgx.Conn, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", discoveryLockTimeout.Milliseconds())); err != nil {
			return err
		}
		return f(tx)
	})
}

// tell logs msg about t at error level, once per table and reason.
func (d *discovery) tell(t event.TableID, reason, msg string, args ...any) {
	if d.told[t] == reason {
		return
	}
	d.told[t] = reason
	d.s.log.Error(msg, append([]any{"table", t.String()}, args...)...)
}
