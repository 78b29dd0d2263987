import Foundation
import Testing

/// `svco selftest` on CPU, in a process of its own: `--threads` reaches libtorch (the one place the
/// process-wide thread setter is checked; see CreationTests.runtimeSettings) and every check passes.
@Suite struct SelfTestCLITests {
    @Test func threadsReachLibtorchAndEveryCheckPasses() throws {
        let r = try CLITests.run(["selftest", "--device", "cpu", "--threads", "3"])
        #expect(r.status == 0 && r.output.contains("libtorch threads: 3") && r.output.contains(" 0 failed"), "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
    }

    @Test func badFlagsAreUsageErrors() throws {
        let threads = try CLITests.run(["selftest", "--threads", "0"])
        #expect(threads.status == 64 && threads.output.contains("--threads"), "\(threads.output)")
        let device = try CLITests.run(["selftest", "--device", "tpu"])
        #expect(device.status == 64 && device.output.contains("--device 'tpu'"), "\(device.output)")
    }
}
