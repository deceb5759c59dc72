package transform

import "github.com/cdcd-dev/cdcd/event"

// schemaChecker is implemented by the transforms that depend on a table's
// columns. schema checks the transform against s and returns the schema
// events of that table leave it with.
type schemaChecker interface {
	schema(s *event.TableSchema) (*event.TableSchema, error)
}

// CheckSchema checks the chain against the schema of one table, as it will
// be when its events arrive: a key column that a transform would drop,
// null or overwrite (ErrKeyColumn), and a column named by a transform whose
// tables name this table exactly, without globs, that the schema does not
// have, and an outbox table's payload or routing column that is missing
// (ErrUnknownColumn). Each transform is checked against the schema
// the transforms before it leave (renames included). Errors are
// *SpecErrors. CheckSchema does not change the chain's state.
//
// Apply reports key-column faults by itself on the first event of a
// schema; unknown columns are only reported here (at run time, a column a
// schema change removed is simply absent).
func (c Chain) CheckSchema(s *event.TableSchema) error {
	for _, t := range c {
		sc, ok := t.(schemaChecker)
		if !ok {
			continue
		}
		out, err := sc.schema(s)
		if err != nil {
			return err
		}
		s = out
	}
	return nil
}
