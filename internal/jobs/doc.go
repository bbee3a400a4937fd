// Package jobs runs scheduled work: the polls of HTTP APIs and the timers
// that emit events. A Manager keeps the jobs, computes when each is due,
// and hands due runs to a bounded pool of workers; a job never runs twice
// at once. In a cluster, a lease per job in the bus (KV bucket "leases", see jobsbus)
// decides which instance runs it: the holder renews it while it lives, and
// another takes the job over when it stops renewing.
//
// Sources reach the scheduler through the small Scheduler interface in
// connector.Deps; the API reads and steers it through the Manager.
//
// The types sources use (Job, Schedule, Scheduler, Store) are defined in
// the leaf package jobapi and re-exported here.
package jobs
