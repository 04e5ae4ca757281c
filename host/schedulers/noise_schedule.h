// The numerics every scheduler shares, each reproducing the torch / numpy operation diffusers
// uses, in that library's precision and order of operations:
//
// - betas: torch.linspace(..., dtype=float32) (torch's two-sided CPU kernel), `** 2` for
//   scaled_linear, betas_for_alpha_bar (float64 then float32) for squaredcos_cap_v2;
//   rescale_zero_terminal_snr in float32 tensor ops.
// - alphas_cumprod: torch.cumprod on float32 (CPU accumulates in double, rounds each output).
// - timestep grids: numpy arange / linspace / round (half to even) in float64.
// - sigma interpolation: np.interp; Karras / exponential sigmas in float64;
//   _sigma_to_t with float32 log-sigmas and float64 arithmetic (numpy 2 promotion rules).
//
// Known last-bit differences from a given torch / numpy build (all far below the 1e-4 image
// tolerance; none affects the tiny-sd golden timesteps):
// - torch's linspace kernel computes start + step * i; a torch build compiled with FMA
//   contraction may fuse it, moving a beta by one float32 ulp. This code never fuses.
// - numpy's float32 np.log (log_sigmas) and float64 np.power (Karras sigmas) use SIMD routines
//   on AVX-512 machines that are within a few ulp of libm's correctly rounded results used
//   here. Rounded timesteps (DPM-Solver Karras) are unaffected; unrounded ones (Euler / LMS with
//   Karras or exponential sigmas) may differ in the last float32 bits.
// - The step math follows torch's CPU kernels. On CUDA, torch divides by a CPU scalar by
//   multiplying with its reciprocal, so diffusers run on a GPU differs in the last bit there.
#pragma once

#include <cstdint>
#include <vector>

#include "schedulers/scheduler_config.h"

namespace sdw::sched {

// torch.linspace(start, end, steps, dtype=torch.float32) on the CPU.
std::vector<float> torch_linspace_f32(double start, double end, int64_t steps);

// The betas of a config's num_train_timesteps / beta_start / beta_end / beta_schedule /
// trained_betas (+ rescale_betas_zero_snr when `allow_rescale` and the key is present).
std::vector<float> make_betas(const SchedulerConfig& cfg, bool allow_rescale);

// diffusers' rescale_zero_terminal_snr (float32).
std::vector<float> rescale_zero_terminal_snr(const std::vector<float>& betas);

// alphas = 1.0 - betas; torch.cumprod(alphas) (float32 result, double accumulator).
std::vector<float> alphas_cumprod_of(const std::vector<float>& betas);

// ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5 in float32, ascending in t; throws
// std::invalid_argument when one is not finite (alphas_cumprod underflowed to 0).
std::vector<float> train_sigmas(const std::vector<float>& alphas_cumprod);

// np.log of a float32 array (float32 result).
std::vector<float> log_f32(const std::vector<float>& values);

// np.linspace(start, stop, num[, endpoint]) in float64.
std::vector<double> np_linspace(double start, double stop, int64_t num, bool endpoint = true);
// np.arange(start, stop, step) for float arguments (numpy's fill: start + i * (next - start)).
std::vector<double> np_arange(double start, double stop, double step);
// np.round / np.rint: half to even.
double np_round(double value);

// np.interp(x, np.arange(len(fp)), fp) with float32 fp, float64 result.
std::vector<double> np_interp_index(const std::vector<double>& x, const std::vector<float>& fp);

// _convert_to_karras / _convert_to_exponential on (sigma_min, sigma_max).
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int64_t num);
std::vector<double> exponential_sigmas(double sigma_min, double sigma_max, int64_t num);

// _sigma_to_t(sigma, log_sigmas) with float32 log_sigmas.
double sigma_to_t(double sigma, const std::vector<float>& log_sigmas);

// Building blocks of the "leading" and "trailing" timestep spacings, as float64 values before
// each scheduler's own order, dtype and offset:
// leading_grid  = np.arange(0, steps) * (train_steps // steps)                (ascending)
// trailing_grid = np.round(np.arange(last, 0, -train_steps / steps))          (descending)
std::vector<double> leading_grid(int64_t train_steps, int64_t steps);
std::vector<double> trailing_grid(int64_t last, int64_t train_steps, int64_t steps);

// add_noise of the alphas_cumprod schedulers (DDIM, PNDM, LCM), float32:
// alphas_cumprod[t] ** 0.5 * original + (1 - alphas_cumprod[t]) ** 0.5 * noise.
void add_noise_alpha(float alpha_cumprod, const float* original, const float* noise, float* out,
                     size_t n);

}  // namespace sdw::sched
