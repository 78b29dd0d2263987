import Foundation
import Testing

/// Several processes on Gloo (1 thread each), started by the tests or by `svco launch`.
@Suite(.serialized) struct MultiProcessTests {
    func expectAllDone(_ outputs: [Ranks.Output], sourceLocation: SourceLocation = #_sourceLocation) {
        for (rank, o) in outputs.enumerated() {
            #expect(o.status == 0 && o.text.contains("DONE"), "rank \(rank): \(o.text)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [2, 3, 4]) func collectivesGiveHandComputedValues(world: Int) throws {
        let outputs = try Ranks.spawn(world, ["collectives"])
        expectAllDone(outputs)
        let w = Double(world)
        let ranks = (0..<world).map(Double.init)
        for (rank, o) in outputs.enumerated() {
            let r = o.results
            let sumOfRanks = ranks.reduce(0, +)
            #expect(r["all_reduce_sum"] == [sumOfRanks + w, 10 * (sumOfRanks + w)])
            #expect(r["all_reduce_avg"] == [sumOfRanks / w, (2 * sumOfRanks + w) / w])
            #expect(r["all_reduce_max"] == [w - 1, 0])
            #expect(r["broadcast"] == [(w - 1) * 100 + 1, (w - 1) * 100 + 2, (w - 1) * 100 + 3])
            #expect(r["all_gather"] == ranks.flatMap { [$0, $0 + 0.5] })
            // Chunk `rank` of Σ_q (1000 q + i) for i in 2·rank ..< 2·rank + 2.
            let chunk = [2 * rank, 2 * rank + 1].map { 1000 * sumOfRanks + w * Double($0) }
            #expect(r["reduce_scatter_sum"] == chunk)
            #expect(r["reduce_scatter_avg"] == chunk.map { $0 / w })
            #expect(r["async_pair"] == [w, sumOfRanks])
            #expect(r["metrics"] == [2 * sumOfRanks / w, sumOfRanks / w])
            #expect(r["found_inf"] == [1, 0])
            #expect(r["found_inf_tensor"] == [1])
            #expect(r["metric_mismatch"] == [1])
        }
    }

    @Test func aKilledRankMakesTheOthersFailWithinTheTimeout() throws {
        let timeoutMs = 6000
        let clock = ContinuousClock()
        let start = clock.now
        let outputs = try Ranks.spawn(3, ["die"], timeoutMs: timeoutMs)
        let wall = clock.now - start
        #expect(outputs[2].reason == .uncaughtSignal && outputs[2].status == SIGKILL)
        for rank in 0..<2 {
            let o = outputs[rank]
            #expect(o.status == 4, "rank \(rank): \(o.text)")
            #expect(o.text.contains("ERROR all_reduce (sum) of Float[1] on rank \(rank) of 3 (gloo) failed: "), "\(o.text)")
            let elapsed = o.text.split(separator: "\n").first { $0.hasPrefix("ELAPSED ") }.flatMap { Double($0.dropFirst(8)) }
            #expect((elapsed ?? .infinity) <= Double(timeoutMs) / 1000 + 2, "\(o.text)")
        }
        #expect(wall < .seconds(40))
    }

    @Test func aBusyPortIsAClearError() throws {
        let (fd, port) = try listeningSocket()
        defer { close(fd) }
        let outputs = try Ranks.spawn(2, ["join"], timeoutMs: 4000, port: port)
        #expect(outputs[0].status == 2)
        #expect(outputs[0].text.contains("ERROR port \(port) on 127.0.0.1 is already in use"), "\(outputs[0].text)")
        // The other rank reaches the program holding the port, which never answers: it names the
        // address and gives up shortly after its timeout (torch's own handshake would wait forever).
        #expect(outputs[1].status == 2 && outputs[1].text.contains("no TCPStore answered at 127.0.0.1:\(port) within 4000 ms"),
                "\(outputs[1].text)")
        let launch = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "2", "--master-port", String(port), "--", Ranks.worker, "join"])
        #expect(launch.status == 1 && launch.text.contains("port \(port) on 127.0.0.1 is already in use"), "\(launch.text)")
    }

    @Test(arguments: [(0, 2), (1, 2), (2, 2), (2, 3), (1, 4)]) func zeroStepEqualsSingleProcessAdamW(stage: Int, world: Int) throws {
        let outputs = try Ranks.spawn(world, ["optimizer", String(stage), "3"])
        expectAllDone(outputs)
        for o in outputs {
            let r = o.results
            // float32 AdamW after 3 steps of lr ≤ 0.03: parameters within 1e-6, norms within 1e-6 relative.
            #expect((r["param_max_diff"]?.first ?? .infinity) <= 1e-6, "\(o.text)")
            #expect((r["norm_max_rel_diff"]?.first ?? .infinity) <= 1e-6, "\(o.text)")
            // Clipping is active (max norm 4): the test would not see a wrong norm otherwise.
            #expect((r["norms"] ?? []).allSatisfy { $0 > 4 }, "\(o.text)")
            if stage > 0 { #expect((r["state_max_diff"]?.first ?? .infinity) <= 1e-6, "\(o.text)") }
        }
        // Every rank ends with the same weights and norms.
        #expect(Set(outputs.map { $0.results["norms"] ?? [] }).count == 1)
    }

    /// ZeRO-2 reduces inside the backward pass: no parameter keeps a `.grad` after it, and two
    /// micro-batches per step over 3 steps equal the single-process AdamW on the mean gradients.
    @Test(arguments: [2, 3]) func zeroTwoReducesDuringBackward(world: Int) throws {
        let outputs = try Ranks.spawn(world, ["in-backward", "3"])
        expectAllDone(outputs)
        for o in outputs {
            let r = o.results
            #expect(r["gradients_left_after_backward"] == [0], "\(o.text)")
            #expect((r["param_max_diff"]?.first ?? .infinity) <= 1e-6, "\(o.text)")
            #expect((r["norm_max_rel_diff"]?.first ?? .infinity) <= 1e-6, "\(o.text)")
        }
    }

    @Test func zeroTwoRefusesRanksThatReducedInDifferentOrders() throws {
        let outputs = try Ranks.spawn(2, ["reduction-order"])
        expectAllDone(outputs)
        for o in outputs {
            #expect(o.results["order_mismatch"] == [1], "\(o.text)")
            #expect(o.text.contains("--zero-stage 1 reduces once per step instead"), "\(o.text)")
        }
    }

    /// fp16's overflow flag under ZeRO-2: only the rank owning the overflowing chunk finds it; after
    /// `GradScaler.agreeOnFoundInf` every rank skips the step.
    @Test func foundInfIsAgreedByEveryRank() throws {
        let outputs = try Ranks.spawn(2, ["scaler"])
        expectAllDone(outputs)
        #expect(outputs[0].results["found_inf"] == [1, 1], "\(outputs[0].text)")
        #expect(outputs[1].results["found_inf"] == [0, 1], "\(outputs[1].text)")
    }

    @Test(arguments: [1, 4]) func shardedStateReshardsToAnotherWorldSize(world: Int) throws {
        let dir = NSTemporaryDirectory() + "svco-reshard-\(getpid())-\(world)"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        expectAllDone(try Ranks.spawn(2, ["reshard-save", "2", dir]))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/optimizer").sorted()
        #expect(files == ["zero-rank-00000-of-00002.safetensors", "zero-rank-00001-of-00002.safetensors"])
        let outputs = try Ranks.spawn(world, ["reshard-load", "2", dir])
        expectAllDone(outputs)
        for o in outputs {
            #expect(o.results["loaded_state_max_diff"] == [0], "\(o.text)")
            #expect((o.results["step3_param_max_diff"]?.first ?? .infinity) <= 1e-6, "\(o.text)")
        }
    }

    @Test func launchGivesEachRankTorchrunsEnvironment() throws {
        let port = Ranks.freePort()
        let o = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "3", "--master-port", String(port), "--", Ranks.worker, "launched"])
        #expect(o.status == 0, "\(o.text)")
        for rank in 0..<3 {
            #expect(o.text.contains("ENV rank=\(rank) local=\(rank) world=3 local_world=3 addr=127.0.0.1 port=\(port)"), "\(o.text)")
        }
        // And real collectives across the launched ranks.
        let c = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "2", "--master-port", String(Ranks.freePort()), "--", Ranks.worker, "collectives"])
        #expect(c.status == 0 && c.text.components(separatedBy: "DONE").count == 3, "\(c.text)")
    }

    @Test func launchStopsTheOthersAndNamesTheFailedRank() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let o = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "3", "--master-port", String(Ranks.freePort()), "--", Ranks.worker, "launched", "1", "5"])
        #expect(o.status == 1)
        #expect(o.text.contains("Error: rank 1 (local rank 1, pid "), "\(o.text)")
        #expect(o.text.contains("exited with status 5; the other ranks were stopped"), "\(o.text)")
        #expect(!o.text.contains("STILL ALIVE"))
        // The others sleep 60 s unless stopped (the bound leaves room for a loaded 2-core machine).
        #expect(clock.now - start < .seconds(50))
        let killed = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "2", "--master-port", String(Ranks.freePort()), "--", Ranks.worker, "launched", "0", "kill"])
        #expect(killed.status == 1 && killed.text.contains("rank 0 (local rank 0, pid ") && killed.text.contains("was killed by signal 9 (SIGKILL)"), "\(killed.text)")
    }

    @Test func launchForwardsSIGTERM() throws {
        let (process, log) = try Ranks.start(Ranks.svco, ["launch", "--nproc-per-node", "2", "--master-port", String(Ranks.freePort()), "--",
                                                          Ranks.worker, "launched", "99"], environment: [:])
        // Wait until both ranks run, then stop the launcher.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline, ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "ENV ").count < 3 {
            usleep(50_000)
        }
        let start = clock.now
        kill(process.processIdentifier, SIGTERM)
        let o = Ranks.finish(process, log)
        #expect(o.status == 128 + SIGTERM, "\(o.text)")
        #expect(o.text.contains("svco launch: interrupted by SIGTERM; forwarded to every rank"), "\(o.text)")
        #expect(clock.now - start < .seconds(30))
    }

    @Test func launchRejectsBadFlags() throws {
        let o = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "0", "--", "true"])
        #expect(o.status == 64 && o.text.contains("--nproc-per-node must be at least 1, got 0"), "\(o.text)")
        let missing = try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", "1", "--master-port", String(Ranks.freePort()), "--", "/nonexistent/program"])
        #expect(missing.status == 1 && missing.text.contains("cannot start '/nonexistent/program'"), "\(missing.text)")
    }

    /// A socket listening on a free port of 127.0.0.1.
    func listeningSocket() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 4)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
