import Glibc
import Testing
@testable import SpikeVault

/// ProcessTable (what `spikevault top` and sv_sampler_* read): every reading, rows kept
/// until the next refresh, rows outside the table refused.
@Suite(.serialized) struct ProcessTableTests {
    @Test func rowsCarryEveryReadingOfAKnownChild() throws {
        let child = try MonitorTestSupport.spawn("fds", 120, life: 120)
        defer { child.kill(); child.wait() }
        #expect(Poll.until(timeout: 60) { (CaptureSys.listDirectory("/proc/\(child.pid)/fd").0?.count ?? 0) >= 123 })
        let table = try ProcessTable()
        #expect(table.rows.isEmpty)
        let first = try #require(table.refresh().first { $0.pid == child.pid })
        #expect(first.cpuPercent == nil)  // a rate needs two passes
        let rows = table.refresh()
        #expect(table.refreshes == 2 && table.rows == rows)
        let row = try #require(rows.first { $0.pid == child.pid })
        #expect(row.comm == "svmon-helper" && row.inspectable && row.uid == geteuid())
        #expect(row.cpuPercent != nil && row.diskIOMiBPerSecond != nil && row.sockets != nil)
        #expect((row.fds ?? 0) >= 123, "fds \(String(describing: row.fds))")
        #expect(row.rssMiB > 0 && row.threads >= 1)
        #expect(table.counters.ticks == 2 && table.counters.processes == Int64(rows.count))
        let index = try #require(rows.firstIndex { $0.pid == child.pid })
        #expect(try table.row(Int64(index)) == row)
    }

    @Test func rowsOutsideTheTableAreRefused() throws {
        let table = try ProcessTable()
        #expect(throws: SpikeVaultError.self) { try table.row(0) }  // before any refresh
        let n = Int64(table.refresh().count)
        #expect(n > 0)
        for bad in [Int64(-1), n, Int64.max, Int64.min] {
            do {
                _ = try table.row(bad)
                Issue.record("row \(bad) was accepted")
            } catch let e as SpikeVaultError {
                #expect(e.status == .invalidArgument)
            }
        }
    }

    @Test func aMissingProcRootIsUnsupported() {
        do {
            _ = try ProcessTable(procRoot: "/nonexistent-proc-root")
            Issue.record("a missing /proc was accepted")
        } catch let e as SpikeVaultError {
            #expect(e.status == .unsupported)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
