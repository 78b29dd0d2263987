#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
import ChatCompletions
import Datasets
import OpenAIClient
import Tokenizers

/// `svco data augment`: each pair's two captions become an MVC record through two chat requests
/// (``RewritePrompts``): stage 1 writes a question both images answer differently and the two
/// answers; stage 2 rewords them, keeping every fact that tells the images apart.
///
/// Every reply is parsed strictly (``RewriteReply``); an unusable one is answered with the problem
/// and asked again, up to `replyAttempts` replies per stage. A record that still fails, or whose
/// request the server refuses (HTTP 400/413/422) or answers with something that is not a chat
/// reply, is reported and skipped — never written half-done. Anything that concerns the whole
/// run (no key, a bad base URL, rate limits or server errors past the retries, the network, the
/// cache) stops it; the replies received so far are in the client's cache, so a rerun asks only
/// for the rest (and needs no key once all are cached).
///
/// Records are rewritten `concurrency` at a time, each with its own requests to the client (so
/// one record's refusal does not abort the others); the client retries 429/5xx with backoff.
public struct CaptionRewriting: Sendable {
    public struct Settings: Sendable {
        public var model: String
        /// Replies per stage before a record is given up (the first ask plus re-asks).
        public var replyAttempts: Int
        /// Records in flight at once.
        public var concurrency: Int
        /// Relative image paths resolve against this (default: each input file's folder).
        public var imageRoot: String?
        /// The field whose value (when a record has it) tells stage 1 the kind of difference.
        public var categoryField: String

        public init(model: String, replyAttempts: Int = 3, concurrency: Int = 4, imageRoot: String? = nil,
                    categoryField: String = PairFields.defaultCategory) {
            self.model = model
            self.replyAttempts = max(1, replyAttempts)
            self.concurrency = max(1, concurrency)
            self.imageRoot = imageRoot
            self.categoryField = categoryField
        }
    }

    /// A record that was skipped, and why.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var record: Int
        public var label: String
        public var reason: String
        public var description: String { "\(file): \(label): \(reason)" }
    }

    /// What a run wrote and skipped.
    public struct Report: Sendable {
        public var written: Int
        public var failures: [Failure]
        /// Where the skipped records were written (with `augment_error`), when there were any.
        public var failuresFile: String?
    }

    public let client: ChatCompletionsClient
    public let settings: Settings

    public init(client: ChatCompletionsClient, settings: Settings) {
        self.client = client
        self.settings = settings
    }

    /// The field the failures file adds to each skipped record.
    public static let errorField = "augment_error"

    /// Rewrites every record of `inputs` (in order) and writes the MVC records to `output`
    /// atomically; skipped records go to `<output>.failed.json`. `progress(done, total)` is called
    /// as records finish, from this task only (one call at a time); `log` gets one line per
    /// skipped record.
    public func run(inputs: [String], output: String, progress: (@Sendable (Int, Int) -> Void)? = nil,
                    log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Report {
        struct Job: Sendable {
            var file: String
            var record: Int
            var label: String
            var captions: (String, String)
            var images: (String, String)
            var category: String?
            var source: JSONValue
        }
        var jobs: [Job] = []
        for input in inputs {
            let file = try PairFile(path: input)
            for index in file.records.indices {
                // Checked up front: a malformed record is the user's file, not a reason to spend requests.
                let captions = try file.pair(index, PairFields.captions)
                let images = try file.imagePaths(index, imageRoot: settings.imageRoot)
                let category = try file.optionalString(index, settings.categoryField)
                jobs.append(Job(file: input, record: index, label: file.label(index), captions: captions, images: images,
                                category: category, source: file.records[index]))
            }
        }
        if jobs.isEmpty { throw DatasetBuildingError(file: inputs.joined(separator: ", "), reason: "holds no records") }
        progress?(0, jobs.count)  // the clock of the rate and ETA starts now

        let outputFolder = MVCDataset.normalise(URL(fileURLWithPath: output).deletingLastPathComponent().path)
        var results = [Result<MVCRecord, Failure>?](repeating: nil, count: jobs.count)
        try await withThrowingTaskGroup(of: (Int, Result<MVCRecord, Failure>).self) { group in
            var next = 0
            func launch() {
                let position = next
                let job = jobs[position]
                next += 1
                group.addTask {
                    let outcome = try await self.rewrite(captions: job.captions, category: job.category, label: job.label)
                    return (position, outcome.map { reply in
                        MVCRecord(instructionPrompt: reply.question,
                                  chosenImages: [Self.relative(job.images.0, to: outputFolder)],
                                  rejectedImages: [Self.relative(job.images.1, to: outputFolder)],
                                  chosenResponse: reply.answer1, rejectedResponse: reply.answer2)
                    }.mapError { Failure(file: job.file, record: job.record, label: job.label, reason: $0.description) })
                }
            }
            while next < jobs.count && next < settings.concurrency { launch() }
            var done = 0
            while let (position, result) = try await group.next() {
                results[position] = result
                if case let .failure(failure) = result { log("skipped \(failure)") }
                done += 1
                progress?(done, jobs.count)
                if next < jobs.count { launch() }
            }
        }

        let records = results.compactMap { r -> MVCRecord? in if case let .success(m)? = r { return m } else { return nil } }
        let failures = results.compactMap { r -> Failure? in if case let .failure(f)? = r { return f } else { return nil } }
        var failuresFile: String?
        if !failures.isEmpty {
            let path = output + ".failed.json"
            let failed = zip(jobs, results).compactMap { job, r -> JSONValue? in
                guard case let .failure(f)? = r else { return nil }
                return job.source.setting(Self.errorField, .string(f.reason))
            }
            try PairFile.write(failed, to: path)
            failuresFile = path
        }
        guard !records.isEmpty else {
            throw DatasetBuildingError(file: output, reason: "not written: all \(jobs.count) records failed"
                                       + (failuresFile.map { " (see \($0))" } ?? ""))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try AtomicFile.write(Array(try encoder.encode(records)) + [0x0A], to: output)
        } catch {
            throw DatasetBuildingError(file: output, reason: "cannot write: \(error)")
        }
        return Report(written: records.count, failures: failures, failuresFile: failuresFile)
    }

    /// Both stages for one pair; a `Problem` when a stage produced no usable reply.
    func rewrite(captions: (String, String), category: String?, label: String) async throws -> Result<RewriteReply, RewriteReply.Problem> {
        let first = try await ask(RewritePrompts.stage1(model: settings.model, captions: captions, category: category), label: "\(label) stage 1")
        guard case let .success(draft) = first else { return first.mapError { RewriteReply.Problem("stage 1: \($0)") } }
        let second = try await ask(RewritePrompts.stage2(model: settings.model, from: draft), label: "\(label) stage 2")
        return second.mapError { RewriteReply.Problem("stage 2: \($0)") }
    }

    /// One stage: ask, validate, re-ask with the problem until a reply passes or attempts run out.
    func ask(_ request: ChatRequest, label: String) async throws -> Result<RewriteReply, RewriteReply.Problem> {
        var request = request
        var lastProblem = RewriteReply.Problem("no reply")
        for attempt in 1...settings.replyAttempts {
            let reply: String
            do {
                reply = try await client.complete([request], labels: [attempt == 1 ? label : "\(label) re-ask \(attempt - 1)"])[0]
            } catch let error as ChatClientError {
                if let problem = Self.recordProblem(error) { return .failure(problem) }
                throw error
            }
            switch RewriteReply.parse(reply) {
            case let .success(result): return .success(result)
            case let .failure(problem):
                lastProblem = problem
                request = RewritePrompts.reask(request, badReply: reply, problem: problem.description)
            }
        }
        let replies = settings.replyAttempts == 1 ? "1 reply" : "\(settings.replyAttempts) replies"
        return .failure(RewriteReply.Problem("\(lastProblem) (after \(replies))"))
    }

    /// The client errors that concern one record (the server refused this request or sent no chat
    /// reply to it); every other one concerns the run.
    static func recordProblem(_ error: ChatClientError) -> RewriteReply.Problem? {
        switch error.kind {
        case let .httpStatus(_, status, _, message) where [400, 413, 422].contains(status):
            return RewriteReply.Problem("the server refused the request (HTTP \(status)\(message.isEmpty ? "" : ": \(message)"))")
        case let .malformedReply(_, reason):
            return RewriteReply.Problem("the server's reply is not a chat completion (\(reason))")
        default:
            return nil
        }
    }

    /// `path` relative to `folder` when it lies inside it (how the trainer resolves MVC image
    /// paths: against the data file's folder), else as is (absolute).
    static func relative(_ path: String, to folder: String) -> String {
        let prefix = folder == "/" ? "/" : folder + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
