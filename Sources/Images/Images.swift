// Placeholder: image decoding and CLIP/SigLIP preprocessing land here (issue 4).
import CImageCodecs
