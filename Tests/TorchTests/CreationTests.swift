import Testing
@testable import Torch

@Suite struct CreationTests {
    @Test func fromArrayEveryDType() {
        expectValues(Tensor([1.5, -2, 3] as [Float]), [1.5, -2, 3])
        expectValues(Tensor([1.25, -2, 1e300] as [Double]), [1.25, -2, 1e300])
        expectValues(Tensor([Int64.max, -7]), [Double(Int64.max), -7])
        #expect(Tensor([Int64.max, -7]).toArray(Int64.self) == [Int64.max, -7])
        #expect(Tensor([Int32.min, 4] as [Int32]).toArray(Int32.self) == [Int32.min, 4])
        #expect(Tensor([0, 200, 255] as [UInt8]).toArray(UInt8.self) == [0, 200, 255])
        #expect(Tensor([true, false, true]).toArray(Bool.self) == [true, false, true])
        let h = Tensor([0.5, 65504, -1] as [Float16])
        #expect(h.dtype == .float16)
        expectValues(h, [0.5, 65504, -1])
        #expect(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).shape == [2, 3])
    }

    @Test func bfloat16RoundsToEightBitMantissa() {
        // bf16 keeps 8 significant bits: 1 + 2⁻⁷ survives, 1 + 2⁻⁹ rounds to 1 (round-to-nearest-even).
        let t = Tensor([1 + 1.0 / 128, 1 + 1.0 / 512, 3.140625] as [Float]).to(.bfloat16)
        #expect(t.dtype == .bfloat16)
        #expect(t.bytes().count == 6)
        expectValues(t, [1.0078125, 1.0, 3.140625], tolerance: 0)
        // 1.0 in bf16 is 0x3F80, little-endian.
        #expect(Tensor([1.0] as [Float]).to(.bfloat16).bytes() == [0x80, 0x3F])
    }

    @Test func constantsAndRanges() {
        expectValues(Tensor.zeros([2, 2]), [0, 0, 0, 0])
        expectValues(Tensor.ones([3], dtype: .int32), [1, 1, 1])
        expectValues(Tensor.full([2], 7.5), [7.5, 7.5])
        let r = Tensor.arange(2, 11, step: 3)
        #expect(r.dtype == .int64)
        expectValues(r, [2, 5, 8])
        expectValues(Tensor.arange(0, 1, step: 0.25, dtype: .float32), [0, 0.25, 0.5, 0.75])
        #expect(Tensor.empty([4, 0]).count == 0)
        #expect(Tensor(scalar: 3, dtype: .int64).item().intValue == 3)
    }

    /// torch.manual_seed(0); torch.rand(3) / torch.randn(3) — PyTorch's documented CPU streams.
    @Test func seededSamplesMatchPyTorch() {
        expectValues(Tensor.rand([3], generator: Generator(seed: 0)), [0.49625658988952637, 0.7682217955589294, 0.08847743272781372])
        expectValues(Tensor.randn([3], generator: Generator(seed: 0)), [1.5409960746765137, -0.293428897857666, -2.1787893772125244])
        Torch.manualSeed(0)
        expectValues(Tensor.rand([3]), [0.49625658988952637, 0.7682217955589294, 0.08847743272781372])
    }

    @Test func generatorStateRestoresTheStream() {
        let g = Generator(seed: 42)
        _ = Tensor.randn([5], generator: g)
        let saved = g.state
        let a: [Float] = Tensor.randn([4], generator: g).toArray()
        g.state = saved
        let b: [Float] = Tensor.randn([4], generator: g).toArray()
        #expect(a == b)
        let perm: [Int] = Tensor.randperm(6, generator: Generator(seed: 1)).toArray()
        #expect(perm.sorted() == [0, 1, 2, 3, 4, 5])
        let ints: [Int] = Tensor.randint(3, 5, [50], generator: g).toArray()
        #expect(ints.allSatisfy { $0 == 3 || $0 == 4 } && Set(ints).count == 2)
    }

    @Test func conversionsAndProperties() {
        let t = Tensor([1.7, -1.7, 2.5] as [Double])
        #expect(t.to(.int64).toArray(Int.self) == [1, -1, 2])  // truncation toward zero, as torch
        #expect(t.to(.float32).dtype == .float32)
        #expect(t.device == .cpu)
        let m = iota([2, 3])
        #expect(m.strides == [3, 1])
        #expect(!m.T.isContiguous && m.T.contiguous().isContiguous)
        #expect(m.byteCount == 48 && m.count == 6 && m.rank == 2 && m.size(-1) == 3)
        let c = m.clone()
        c.fill_(1)
        expectValues(m, [0, 1, 2, 3, 4, 5])  // clone owns its storage
        let v = m.view(6)
        v.zero_()
        expectValues(m, [0, 0, 0, 0, 0, 0])  // a view shares it
        #expect(Tensor(scalar: 2.5).item().doubleValue == 2.5)
        #expect(iota([2]).description.contains("1"))
    }

    @Test func runtimeSettings() {
        // The setter is checked in a process of its own (SelfTestCLITests): the thread count is
        // process-wide, and setting it here would change the reduction order of the suites that
        // run concurrently, whose exact-resume checks compare bit for bit.
        #expect(Torch.threads >= 1)
        if !Torch.cudaIsAvailable {
            #expect(Torch.cudaDeviceCount == 0)
            #expect(Torch.memoryAllocated(.cuda(0)) == 0)
        }
        #expect(Device(name: "cuda:1") == .cuda(1) && Device(name: "cpu") == .cpu && Device(name: "gpu") == nil)
        #expect(DType(name: "bf16") == .bfloat16 && DType(name: "float16") == .float16 && DType(name: "x") == nil)
    }
}
