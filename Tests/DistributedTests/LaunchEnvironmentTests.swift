import Distributed
import Testing

@Suite struct LaunchEnvironmentTests {
    let torchrun = ["RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "node0",
                    "MASTER_PORT": "29511", "TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RESTART_COUNT": "2"]

    func message(_ env: [String: String]) -> String {
        do {
            _ = try LaunchEnvironment.parse(env)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func readsTorchrunsContract() throws {
        let env = try #require(try LaunchEnvironment.parse(torchrun))
        #expect(env == LaunchEnvironment(rank: 3, worldSize: 8, localRank: 1, localWorldSize: 2, masterAddress: "node0", masterPort: 29511,
                                         useAgentStore: true, restartCount: 2, source: .torchrun))
    }

    @Test func noLauncherMeansOneProcess() throws {
        #expect(try LaunchEnvironment.parse(["PATH": "/usr/bin"]) == nil)
    }

    @Test func singleRankNeedsNoRendezvousAddress() throws {
        let env = try #require(try LaunchEnvironment.parse(["RANK": "0", "WORLD_SIZE": "1"]))
        #expect(env.masterAddress == "127.0.0.1" && env.masterPort == 0 && env.localRank == 0 && env.localWorldSize == 1)
    }

    @Test func errorsNameTheVariable() {
        var env = torchrun
        env["RANK"] = "three"
        #expect(message(env) == "environment variable RANK: 'three' is not an integer")
        env["RANK"] = "8"
        #expect(message(env) == "environment variable RANK: 8 is not in 0..<WORLD_SIZE (8)")
        env["RANK"] = "3"
        env["LOCAL_RANK"] = "2"
        #expect(message(env) == "environment variable LOCAL_RANK: 2 is not in 0..<LOCAL_WORLD_SIZE (2)")
        env["LOCAL_RANK"] = "1"
        env["MASTER_PORT"] = "70000"
        #expect(message(env) == "environment variable MASTER_PORT: 70000 is not a port number (0...65535)")
        env["MASTER_PORT"] = "29500"
        env["TORCHELASTIC_USE_AGENT_STORE"] = "maybe"
        #expect(message(env) == "environment variable TORCHELASTIC_USE_AGENT_STORE: 'maybe' is not a boolean (True/False, 1/0)")
        env["TORCHELASTIC_USE_AGENT_STORE"] = "False"
        env.removeValue(forKey: "MASTER_ADDR")
        #expect(message(env).hasPrefix("environment variable MASTER_ADDR: is not set"))
        env["MASTER_ADDR"] = "node0"
        env.removeValue(forKey: "WORLD_SIZE")
        #expect(message(env) == "environment variable WORLD_SIZE: is not set")
    }

    @Test func readsOpenMPIAndSLURM() throws {
        let mpi = try #require(try LaunchEnvironment.parse([
            "OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_SIZE": "6", "OMPI_COMM_WORLD_LOCAL_RANK": "2",
            "OMPI_COMM_WORLD_LOCAL_SIZE": "3", "MASTER_ADDR": "h", "MASTER_PORT": "1234",
        ]))
        #expect(mpi == LaunchEnvironment(rank: 5, worldSize: 6, localRank: 2, localWorldSize: 3, masterAddress: "h", masterPort: 1234, source: .openMPI))
        let slurm = try #require(try LaunchEnvironment.parse([
            "SLURM_PROCID": "1", "SLURM_NTASKS": "4", "SLURM_LOCALID": "1", "SLURM_NTASKS_PER_NODE": "2",
            "MASTER_ADDR": "h", "MASTER_PORT": "1234",
        ]))
        #expect(slurm == LaunchEnvironment(rank: 1, worldSize: 4, localRank: 1, localWorldSize: 2, masterAddress: "h", masterPort: 1234, source: .slurm))
        #expect(message(["SLURM_PROCID": "4", "SLURM_NTASKS": "4", "MASTER_ADDR": "h", "MASTER_PORT": "1"])
                == "environment variable SLURM_PROCID: 4 is not in 0..<SLURM_NTASKS (4)")
        // torchrun's variables win inside a SLURM job that runs torchrun.
        var both = torchrun
        both["SLURM_PROCID"] = "0"
        both["SLURM_NTASKS"] = "1"
        #expect(try LaunchEnvironment.parse(both)?.source == .torchrun)
    }

    @Test func launcherGivesTorchrunsVariables() throws {
        let launcher = Launcher(processesPerNode: 4, nodes: 2, nodeRank: 1, masterAddress: "n0", masterPort: 4000)
        let v = launcher.environment(localRank: 2).variables
        #expect(v["RANK"] == "6" && v["LOCAL_RANK"] == "2" && v["WORLD_SIZE"] == "8" && v["LOCAL_WORLD_SIZE"] == "4")
        #expect(v["GROUP_RANK"] == "1" && v["MASTER_ADDR"] == "n0" && v["MASTER_PORT"] == "4000")
        // What one rank writes is what it reads back.
        #expect(try LaunchEnvironment.parse(v) == launcher.environment(localRank: 2))
    }

    @Test func zeroStagesInDeepSpeedsNumbering() throws {
        #expect(try ZeroStage(number: 2, source: "--zero-stage") == .stage2)
        #expect(throws: DistributedError.self) { try ZeroStage(number: 3, source: "--zero-stage") }
        do {
            _ = try ZeroStage(number: 4, source: "--zero-stage")
        } catch {
            #expect("\(error)" == "--zero-stage: 4 is not a ZeRO stage (0, 1, 2)")
        }
    }
}
