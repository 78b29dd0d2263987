import NIOConcurrencyHelpers

/// Runs async work to completion from synchronous code and returns its result.
///
/// The work runs on the calling thread itself (a task executor that drains its jobs there), not on
/// Swift's shared thread pool: a synchronous command may itself be running on a pool thread, and
/// blocking it while the work waits for a free pool thread would deadlock on a one-core machine.
/// Network I/O still happens on the HTTP client's event loop threads.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let executor = CallingThreadExecutor()
    let result = NIOLockedValueBox<Result<T, Error>?>(nil)
    Task(executorPreference: executor) {
        let outcome: Result<T, Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLockedValue { $0 = outcome }
        executor.finish()
    }
    executor.run()
    guard let outcome = result.withLockedValue({ $0 }) else { throw CancellationError() }
    return try outcome.get()
}

/// A task executor whose jobs run on whichever thread calls `run()`, until `finish()`.
final class CallingThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Condition value: 1 when there is something to do (jobs, or finished), 0 otherwise.
    private let condition = ConditionLock<Int>(value: 0)
    private var jobs: [UnownedJob] = []
    private var finished = false

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.unlock(withValue: 1)
    }

    func finish() {
        condition.lock()
        finished = true
        condition.unlock(withValue: 1)
    }

    func run() {
        while true {
            condition.lock(whenValue: 1)
            let batch = jobs
            jobs.removeAll()
            let done = finished
            condition.unlock(withValue: done ? 1 : 0)
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            if done && batch.isEmpty { return }
        }
    }
}
