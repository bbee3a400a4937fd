package grpc

import "time"

// SetMinHeartbeat lowers the shortest heartbeat interval the config
// accepts, so that tests need not wait 10s; it returns the restore func.
func SetMinHeartbeat(d time.Duration) func() {
	old := minHeartbeat
	minHeartbeat = d
	return func() { minHeartbeat = old }
}
