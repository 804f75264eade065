//===- Formula.cpp - Saved bytes as a polynomial in the symbolic dims -----===//
//
// The figure is evaluated on a grid (each dim at 1, 2 and 3 times its bound
// value) and fitted exactly by the polynomial of degree at most 2 in each
// dim through those 3^k points (a tensor-product Vandermonde system, solved
// in scaled variables); the fit is then checked at a fresh point (each dim
// at 3 times plus 1). A figure that is not such a polynomial is said so.
//
//===----------------------------------------------------------------------===//

#include "vram/Cost/Cost.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace vram {

namespace {

using Exponents = std::vector<unsigned>;

/// All exponent vectors with entries 0..2, the last dim varying fastest.
std::vector<Exponents> monomials(size_t K) {
  std::vector<Exponents> Out(1, Exponents(K, 0));
  for (size_t I = 0; I < K; ++I) {
    std::vector<Exponents> Next;
    for (const Exponents &E : Out)
      for (unsigned P = 0; P < 3; ++P) {
        Next.push_back(E);
        Next.back()[I] = P;
      }
    Out = std::move(Next);
  }
  return Out;
}

long double monomial(const Exponents &E, ArrayRef<long double> X) {
  long double V = 1;
  for (size_t I = 0; I < E.size(); ++I)
    V *= std::pow(X[I], E[I]);
  return V;
}

/// Solves A x = B (A square) by Gaussian elimination with partial pivoting.
std::vector<long double> solve(std::vector<std::vector<long double>> A,
                               std::vector<long double> B) {
  size_t N = B.size();
  for (size_t C = 0; C < N; ++C) {
    size_t P = C;
    for (size_t R = C + 1; R < N; ++R)
      if (std::fabs(A[R][C]) > std::fabs(A[P][C]))
        P = R;
    std::swap(A[C], A[P]);
    std::swap(B[C], B[P]);
    for (size_t R = 0; R < N; ++R) {
      if (R == C || A[C][C] == 0)
        continue;
      long double F = A[R][C] / A[C][C];
      for (size_t K = C; K < N; ++K)
        A[R][K] -= F * A[C][K];
      B[R] -= F * B[C];
    }
  }
  std::vector<long double> X(N);
  for (size_t I = 0; I < N; ++I)
    X[I] = A[I][I] == 0 ? 0 : B[I] / A[I][I];
  return X;
}

std::string formatCoefficient(long double C) {
  if (std::fabs(C - std::round(C)) < 1e-9)
    return std::to_string(static_cast<long long>(std::llround(C)));
  std::string S;
  raw_string_ostream OS(S);
  OS << format("%.6g", static_cast<double>(C));
  return OS.str();
}

} // namespace

Expected<std::vector<std::string>> fitFormulas(
    ArrayRef<std::pair<std::string, int64_t>> Dims,
    function_ref<Expected<std::vector<uint64_t>>(ArrayRef<int64_t>)> Eval) {
  size_t K = Dims.size();
  if (K == 0 || K > 4)
    return makeError("a formula needs 1 to 4 symbolic dims (got " + Twine(K) +
                     ")");
  std::vector<Exponents> Monos = monomials(K);
  size_t N = Monos.size();
  // The grid: exponent vector E names the point (E_i + 1) x the bound value.
  std::vector<std::vector<long double>> A;
  std::vector<std::vector<uint64_t>> Y;
  for (const Exponents &P : Monos) {
    std::vector<int64_t> Vals;
    std::vector<long double> X;
    for (size_t I = 0; I < K; ++I) {
      Vals.push_back(Dims[I].second * (P[I] + 1));
      X.push_back(P[I] + 1);
    }
    auto V = Eval(Vals);
    if (!V)
      return V.takeError();
    Y.push_back(*V);
    std::vector<long double> Row;
    for (const Exponents &E : Monos)
      Row.push_back(monomial(E, X));
    A.push_back(std::move(Row));
  }
  std::vector<int64_t> Fresh;
  for (size_t I = 0; I < K; ++I)
    Fresh.push_back(Dims[I].second * 3 + 1);
  auto Check = Eval(Fresh);
  if (!Check)
    return Check.takeError();
  std::vector<std::string> Out;
  for (size_t Q = 0; Q < Y.front().size(); ++Q) {
    std::vector<long double> B;
    for (size_t R = 0; R < N; ++R)
      B.push_back(static_cast<long double>(Y[R][Q]));
    std::vector<long double> C = solve(A, B);
    // Back from the scaled variables (d / bound) to the dims, rounded to
    // 1/64 of a byte.
    long double AtFresh = 0;
    std::vector<std::pair<Exponents, long double>> Terms;
    for (size_t M = 0; M < N; ++M) {
      long double Scale = 1;
      for (size_t I = 0; I < K; ++I)
        Scale *=
            std::pow(static_cast<long double>(Dims[I].second), Monos[M][I]);
      long double Coef = std::round(C[M] / Scale * 64) / 64;
      if (Coef == 0)
        continue;
      Terms.push_back({Monos[M], Coef});
      std::vector<long double> X;
      for (int64_t F : Fresh)
        X.push_back(F);
      AtFresh += Coef * monomial(Monos[M], X);
    }
    if (std::fabs(AtFresh - static_cast<long double>((*Check)[Q])) > 0.5) {
      Out.push_back("not a polynomial of degree <= 2 in each dim");
      continue;
    }
    // Highest total degree first, then by the exponents of the first dims.
    std::stable_sort(Terms.begin(), Terms.end(),
                     [](const auto &L, const auto &R) {
                       unsigned DL = 0, DR = 0;
                       for (unsigned E : L.first)
                         DL += E;
                       for (unsigned E : R.first)
                         DR += E;
                       if (DL != DR)
                         return DL > DR;
                       return L.first > R.first;
                     });
    std::string S;
    for (const auto &T : Terms) {
      bool Neg = T.second < 0;
      if (!S.empty())
        S += Neg ? " - " : " + ";
      else if (Neg)
        S += "-";
      S += formatCoefficient(std::fabs(T.second));
      for (size_t I = 0; I < K; ++I) {
        if (!T.first[I])
          continue;
        S += "*" + Dims[I].first;
        if (T.first[I] > 1)
          S += "^" + std::to_string(T.first[I]);
      }
    }
    Out.push_back(S.empty() ? "0" : S);
  }
  return Out;
}

Optional<StepQuadratics> StepQuadratics::fit(ArrayRef<uint64_t> Y1,
                                             ArrayRef<uint64_t> Y2,
                                             ArrayRef<uint64_t> Y3) {
  if (Y1.size() != Y2.size() || Y1.size() != Y3.size() || Y1.empty())
    return None;
  StepQuadratics Q;
  for (size_t I = 0; I < Y1.size(); ++I) {
    int64_t A = static_cast<int64_t>(Y1[I]), B = static_cast<int64_t>(Y2[I]),
            C = static_cast<int64_t>(Y3[I]);
    Q.A.push_back(A);
    Q.D1.push_back(B - A);
    Q.D2.push_back(C - 2 * B + A);
  }
  return Q;
}

namespace {
/// Newton's form through V = 1, 2, 3: A + (V-1) D1 + (V-1)(V-2)/2 D2.
__int128 newton(int64_t A, int64_t D1, int64_t D2, int64_t V) {
  __int128 K = V - 1;
  return A + K * D1 + K * (K - 1) / 2 * D2;
}
} // namespace

bool StepQuadratics::fitsAt(int64_t V, uint64_t Limit) const {
  for (size_t I = 0; I < A.size(); ++I)
    if (newton(A[I], D1[I], D2[I], V) > static_cast<__int128>(Limit))
      return false;
  return true;
}

int64_t StepQuadratics::largest(uint64_t Limit, int64_t Cap) const {
  int64_t Lo = 0, Hi = 1; // Lo fits (0: nothing does), Hi is to be tried
  while (Hi <= Cap && fitsAt(Hi, Limit)) {
    Lo = Hi;
    Hi *= 2;
  }
  Hi = std::min(Hi, Cap + 1);
  while (Hi - Lo > 1) {
    int64_t Mid = Lo + (Hi - Lo) / 2;
    (fitsAt(Mid, Limit) ? Lo : Hi) = Mid;
  }
  return Lo;
}

bool StepQuadratics::matches(int64_t V, ArrayRef<uint64_t> Actual) const {
  if (Actual.size() != A.size())
    return false;
  for (size_t I = 0; I < A.size(); ++I)
    if (newton(A[I], D1[I], D2[I], V) != static_cast<__int128>(Actual[I]))
      return false;
  return true;
}

} // namespace vram
