// The C++ side of `make bench`'s dispatch comparison: the same small ops as svco-bench's `dispatch`,
// called directly on at::Tensor in a loop, and a 1024x1024 float32 matmul.
// Prints one line per op: "<name> <nanoseconds per op>", then "matmul1024 <GFLOP/s>".
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <functional>

static double ns_per_op(int iterations, const std::function<void()> &op) {
    for (int i = 0; i < iterations / 10; ++i) op();  // warm up
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) op();
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    return elapsed.count() / iterations;
}

int main(int argc, char **argv) {
    int iterations = argc > 1 ? std::atoi(argv[1]) : 200000;
    at::set_num_threads(1);
    at::Tensor a = at::rand({4, 4}), b = at::rand({4, 4});
    std::printf("add %.1f\n", ns_per_op(iterations, [&] { auto c = a.add(b); }));
    std::printf("mul_scalar %.1f\n", ns_per_op(iterations, [&] { auto c = a.mul(0.5); }));
    std::printf("relu %.1f\n", ns_per_op(iterations, [&] { auto c = a.relu(); }));
    std::printf("view %.1f\n", ns_per_op(iterations, [&] { auto c = a.view({16}); }));
    std::printf("matmul4 %.1f\n", ns_per_op(iterations, [&] { auto c = a.matmul(b); }));
    std::printf("sum %.1f\n", ns_per_op(iterations, [&] { auto c = a.sum(); }));
    std::printf("softmax %.1f\n", ns_per_op(iterations, [&] { auto c = a.softmax(-1); }));

    at::set_num_threads(argc > 2 ? std::atoi(argv[2]) : at::get_num_threads());
    at::Tensor x = at::rand({1024, 1024}), y = at::rand({1024, 1024});
    double ns = ns_per_op(20, [&] { auto z = x.matmul(y); });
    std::printf("matmul1024 %.2f\n", 2.0 * 1024 * 1024 * 1024 / ns);
    return 0;
}
