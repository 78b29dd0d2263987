#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Images

/// Image preprocessing throughput: decode + EXIF orientation + processor, one thread, the same
/// work as `bench/images/reference.py` does with Pillow + the HF processor. Both sides time with
/// the process CPU clock, so the ratio holds on a machine shared with other jobs (on an idle
/// machine it equals wall-clock throughput, the work being single-threaded).
enum ImageBench {
    /// Processes every file once as warm-up, then repeats passes over all files until at least
    /// `minimumSeconds` of CPU time have been spent. Returns images per CPU-second.
    static func run(imageFiles: [String], processorDirectory: String, minimumSeconds: Double = 3) throws -> Double {
        let processor = try ImageProcessors.load(directory: processorDirectory)
        guard !imageFiles.isEmpty else { return 0 }
        var checksum: Float = 0
        for file in imageFiles {  // warm-up (page cache, allocator)
            checksum += processor.preprocess(try ImageDecoder.decode(file: file)).values[0]
        }
        let start = now()
        var images = 0
        repeat {
            for file in imageFiles {
                let out = processor.preprocess(try ImageDecoder.decode(file: file))
                checksum += out.values[out.values.count / 2]
                images += 1
            }
        } while now() - start < minimumSeconds
        let elapsed = now() - start
        // Keeps the work observable so the optimiser cannot drop it.
        if checksum.isNaN { print("checksum", checksum) }
        return Double(images) / elapsed
    }

    /// Reads `images_per_second` from the JSON that `bench/images/reference.py --json` writes.
    static func referenceImagesPerSecond(jsonFile: String) throws -> Double {
        struct Reference: Decodable { var images_per_second: Double }
        let data = try Data(contentsOf: URL(fileURLWithPath: jsonFile))
        return try JSONDecoder().decode(Reference.self, from: data).images_per_second
    }

    /// One line per processor: Swift images/s, reference images/s, ratio.
    static func report(label: String, swift: Double, reference: Double?) -> String {
        let s = (swift * 10).rounded() / 10
        guard let reference, reference > 0 else { return "\(label): \(s) images/s" }
        let r = (reference * 10).rounded() / 10
        let ratio = (swift / reference * 100).rounded() / 100
        return "\(label): \(s) images/s vs Pillow+HF \(r) images/s -> \(ratio)x"
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
